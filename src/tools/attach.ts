/**
 * The tools of a running chat: hot reload of their file (a valid edit re-declares them with
 * session.update, an invalid one keeps the old ones) and the handlers' console output, shown as
 * `tool log` lines (a `tool-log` event under --json) instead of landing on the CLI's stdout.
 */
import type { Chat } from '../chat.js';
import type { Output } from '../ui/output.js';
import { cleanField } from '../ui/sanitize.js';
import { captureConsole } from './console.js';
import type { AgentToolRunner } from './run.js';
import { watchAgentConfig } from './watch.js';

/** Where a line the tools' code logged goes: a dim `tool log` line, or a `tool-log` event under --json. */
export function toolLogLine(out: Output): (text: string) => void {
  return (text) => {
    if (out.jsonMode) out.json({ event: 'tool-log', text });
    else out.line(out.chalk.dim(`tool log ▸ ${cleanField(text)}`));
  };
}

/** Starts both; `close` stops watching and gives the console back. */
export function attachTools(path: string, runner: AgentToolRunner, chat: Chat, out: Output, onTools: (names: string[]) => void): { close(): void } {
  const releaseConsole = captureConsole(toolLogLine(out));
  const watcher = watchTools(path, runner, chat, out, onTools);
  return {
    close() {
      watcher.close();
      releaseConsole();
    },
  };
}

function watchTools(path: string, runner: AgentToolRunner, chat: Chat, out: Output, onTools: (names: string[]) => void): { close(): void } {
  return watchAgentConfig(path, (result) => {
    if (!result.ok) {
      out.warn(`tools: ${result.error.message} — keeping the previous tools`);
      out.json({ event: 'tools-reload', ok: false, error: result.error.message });
      return;
    }
    const before = runner.agent();
    runner.replace(result.agent);
    const names = runner.declarations().map((tool) => tool.name);
    const sent = chat.updateTools(runner.declarations());
    onTools(names);
    out.line(out.chalk.cyan(`tools reloaded from ${cleanField(path)}: ${names.join(', ') || '(none)'}${sent ? ' · session.update sent' : ' · declared at the next connection'}`));
    out.json({ event: 'tools-reload', ok: true, tools: names, sent });
    const frozen = (['instructions', 'voice', 'model', 'greet'] as const).filter((key) => before[key] !== result.agent[key]);
    if (frozen.length > 0) {
      out.warn(`tools: ${frozen.join(', ')} changed in ${cleanField(path)}, but they are fixed when the session starts; restart hydra-chat to use them`);
      out.json({ event: 'note', kind: 'restart-needed', changed: frozen, file: path });
    }
  });
}
