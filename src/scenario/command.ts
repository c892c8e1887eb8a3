/**
 * `hydra-chat run <scenario>`: scripted runs against Hydra or the built-in simulator. Prints one
 * line per turn as replies finish, then the table; `--json` puts report.json on stdout instead (the
 * progress goes to stderr). Resolves when every expectation holds, else throws 'scenario-failed'.
 */
import type { Command } from 'commander';
import { DEFAULT_URL } from '../models.js';
import { HydraError } from '../errors.js';
import { redact, registerSecret } from '../redact.js';
import { jsonText } from '../ui/json-text.js';
import { cleanField, MAX_FIELD_CHARS } from '../ui/sanitize.js';


export type RunCommandContext = {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
};

type RunFlags = { mock?: boolean; url?: string; apiKey?: string; runs?: string; concurrency?: string; out?: string; json?: boolean };

export function registerRunCommand(program: Command, ctx: RunCommandContext): void {
  program
    .command('run <scenario>')
    .description('run a scripted conversation (YAML/JSON scenario) and check its expectations')
    .option('--mock', 'run against the built-in offline simulator (turns\u2019 mock: sections drive its tool calls)')
    .option('--url <ws-url>', 'Hydra endpoint', DEFAULT_URL)
    .option('--api-key <key>', 'API key (default: the SMALLEST_API_KEY environment variable)')
    .option('--runs <n>', 'run the scenario this many times and aggregate', '1')
    .option('--concurrency <n>', 'sessions at once when --runs > 1', '1')
    .option('--out <dir>', 'run folder (default: runs/<scenario>-<YYYYMMDD-HHMMSS>)')
    .option('--json', 'print report.json on stdout instead of the table')
    .action(async (file: string, flags: RunFlags) => {
      // Loaded on use, so other commands start fast.
      const [{ progressLine, renderText }, { loadScenario }, { runScenario }] = await Promise.all([
        import('./report.js'),
        import('./schema.js'),
        import('./suite.js'),
      ]);
      const runs = positiveInteger('--runs', flags.runs ?? '1');
      const concurrency = positiveInteger('--concurrency', flags.concurrency ?? '1');
      const apiKey = flags.apiKey ?? ctx.env.SMALLEST_API_KEY ?? '';
      registerSecret(apiKey);
      if (flags.apiKey !== undefined) {
        ctx.err('warning: --api-key is visible to other users in the process list; prefer the SMALLEST_API_KEY environment variable');
      }
      // What the agent's tool code logs (console.log in a handler) is its log: stderr, so stdout stays the report.
      const releaseConsole = (await import('../tools/console.js')).captureConsole(ctx.err);
      try {
        const scenario = await loadScenario(file, ctx.signal);
        const progress = flags.json ? ctx.err : ctx.out;
        progress(cleanField(`running ${scenario.name} (${scenario.turns.length} turn${scenario.turns.length === 1 ? '' : 's'}${runs > 1 ? `, ${runs} runs, ${concurrency} at a time` : ''}) ${flags.mock ? 'on the built-in simulator' : `at ${redact(flags.url ?? DEFAULT_URL)}`}`));
        const report = await runScenario(scenario, {
          runs,
          concurrency,
          signal: ctx.signal,
          env: ctx.env,
          ...(flags.mock ? { mock: true } : { url: flags.url ?? DEFAULT_URL, apiKey }),
          ...(flags.out === undefined ? {} : { outDir: flags.out }),
          // Tool names and failure details come from the model and the server: cleaned like every log line.
          onTurn: (run, turn) => progress(cleanField(progressLine(run, runs, scenario.turns.length, turn))),
        });
        if (flags.json) ctx.out(jsonText(report));
        else {
          for (const line of renderText(report).split('\n')) ctx.out(cleanField(line, 4 * MAX_FIELD_CHARS));
          ctx.out(`run folder: ${cleanField(report.outDir)}`);
        }
        if (ctx.signal.aborted) throw new HydraError('interrupted', 'interrupted');
        if (report.passed) return;
        const failed = report.runs.filter((run) => !run.passed);
        // A session that never got going is that error (auth, no server), not a failed expectation.
        const error = report.runs.every((run) => run.ended === 'error' && run.turns.every((turn) => turn.heard === 0)) ? report.runs[0]?.error : undefined;
        if (error && failed.length === report.runs.length) {
          throw new HydraError(knownCode(error.code), error.message);
        }
        const first = failed[0];
        const reason = first ? `${runs > 1 ? `run ${first.run}: ` : ''}${first.reason ?? 'failed'}` : 'not every run finished';
        throw new HydraError('scenario-failed', `${scenario.name}: ${failed.length}/${runs} run${runs === 1 ? '' : 's'} failed; ${reason}`);
      } finally {
        releaseConsole();
      }
    });
}

function positiveInteger(flag: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new HydraError('usage', `${flag} must be a whole number of at least 1 (got ${value})`);
  return parsed;
}

function knownCode(code: string): ConstructorParameters<typeof HydraError>[0] {
  const codes = ['auth-rejected', 'forbidden', 'rate-limited', 'server-full', 'server-error', 'connect-failed', 'protocol'] as const;
  return (codes as readonly string[]).includes(code) ? (code as (typeof codes)[number]) : 'connect-failed';
}
