/**
 * What the shell completions offer, read from the Commander program itself (so they never drift from
 * --help) plus the voice rosters. Pure.
 */
import type { Command } from 'commander';
import { MODELS } from '../models.js';

export type FlagSpec = { flag: string; takesValue: boolean; description: string };
export type CommandSpec = { name: string; description: string; flags: FlagSpec[]; subcommands: string[] };
export type CompletionSpec = {
  flags: FlagSpec[];
  commands: CommandSpec[];
  /** Voices per model tag. */
  voices: Record<string, readonly string[]>;
  /** Flags whose value is a file path. */
  fileFlags: string[];
  /** Flags whose value is a device name (completed through `hydra-chat __complete devices in|out`). */
  deviceFlags: { flag: string; direction: 'in' | 'out' }[];
};

const FILE_FLAGS = ['--input', '--output', '--record', '--tools', '--prompt-file', '--out', '--rules'];

function flagsOf(command: Command): FlagSpec[] {
  return command.options
    .filter((option) => option.long !== undefined && !option.hidden)
    .map((option) => ({ flag: option.long!, takesValue: option.required || option.optional, description: oneLine(option.description) }));
}

export function completionSpec(program: Command): CompletionSpec {
  const commands = program.commands
    .filter((command) => !(command as Command & { _hidden?: boolean })._hidden)
    .map((command) => ({
      name: command.name(),
      description: oneLine(command.description()),
      flags: [...flagsOf(command), { flag: '--help', takesValue: false, description: 'help for this command' }],
      subcommands: command.commands.map((sub) => sub.name()),
    }));
  return {
    flags: [...flagsOf(program), { flag: '--help', takesValue: false, description: 'usage' }],
    commands,
    voices: Object.fromEntries(Object.entries(MODELS).map(([tag, info]) => [tag, info.voices])),
    fileFlags: FILE_FLAGS,
    deviceFlags: [
      { flag: '--input-device', direction: 'in' },
      { flag: '--output-device', direction: 'out' },
    ],
  };
}

/** Every voice of every model, without repeats. */
export function allVoices(spec: CompletionSpec): string[] {
  return [...new Set(Object.values(spec.voices).flat())];
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
