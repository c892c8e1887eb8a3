/**
 * `hydra-chat completion bash|zsh|fish` prints a completion script; the hidden `hydra-chat __complete
 * devices in|out` lists device names for it (listing asks PortAudio for names; no stream is opened).
 */
import { Argument, type Command } from 'commander';
import type { Output } from '../ui/output.js';
import { completionScript, SHELLS, type Shell } from './scripts.js';
import { completionSpec } from './spec.js';

export function registerCompletionCommands(program: Command, context: { output: () => Output; signal: AbortSignal }): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh, fish): commands, flags, voices per model, device names')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText(
      'after',
      `
Load it:
  bash  eval "$(hydra-chat completion bash)"        (add the line to ~/.bashrc)
  zsh   source <(hydra-chat completion zsh)         (after compinit, in ~/.zshrc)
  fish  hydra-chat completion fish > ~/.config/fish/completions/hydra-chat.fish`,
    )
    .action((shell: Shell) => {
      process.stdout.write(completionScript(shell, completionSpec(program)));
    });

  program
    .command('__complete', { hidden: true })
    .argument('<what>', 'devices')
    .argument('[direction]', 'in or out')
    .action(async (what: string, direction: string | undefined) => {
      if (what !== 'devices') return;
      try {
        const { listDevices } = await import('../audio/devices.js');
        const list = await listDevices(context.signal);
        const wanted = list.devices.filter((d) => (direction === 'in' ? d.maxInputChannels > 0 : direction === 'out' ? d.maxOutputChannels > 0 : true));
        for (const name of new Set(wanted.map((d) => d.name))) process.stdout.write(`${name}\n`);
      } catch {
        // No audio (no addon, no sound server): nothing to offer; completion stays silent.
      }
    });
}
