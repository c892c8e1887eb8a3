/**
 * A scenario run end to end: load and prepare it, start the in-process simulator for --mock, run it
 * `runs` times with at most `concurrency` sessions at once, evaluate, and write the run folder:
 * transcript.jsonl + conversation.wav (+ report.json) per run, report.json + report.md for all.
 * With one run everything sits in the folder itself; with more, each run has a run-N subfolder.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { HydraError } from '../errors.js';
import { redact } from '../redact.js';
import { jsonText } from '../ui/json-text.js';
import { evaluateRun } from './expectations.js';
import { prepareScenario, type PreparedScenario } from './prepare.js';
import { renderMarkdown, runReport, summarizeRuns, type Report, type RunReport } from './report.js';
import { runOnce } from './runner.js';
import { loadScenario, type Scenario } from './schema.js';
import type { TurnRecord } from './tracker.js';

export type SuiteOptions = {
  mock?: boolean;
  url?: string;
  apiKey?: string;
  runs?: number;
  concurrency?: number;
  /** The run folder; default runs/<name>-<YYYYMMDD-HHMMSS> under `cwd`. */
  outDir?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  maxRetries?: number;
  /** Simulator think time for --mock (overrides the scenario's mock.responseDelayMs). */
  responseDelayMs?: number;
  /** The espeak-ng executable. */
  espeak?: string;
  onTurn?: (run: number, turn: TurnRecord) => void;
};

export async function runScenarioFile(path: string, options: SuiteOptions = {}): Promise<Report> {
  return runScenario(await loadScenario(path, options.signal), options);
}

export async function runScenario(scenario: Scenario, options: SuiteOptions = {}): Promise<Report> {
  const runs = options.runs ?? 1;
  const concurrency = Math.min(options.concurrency ?? 1, runs);
  const prepared = await prepareScenario(scenario, {
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.espeak === undefined ? {} : { espeak: options.espeak }),
  });
  const target = await connectTarget(prepared, options);
  try {
    const outDir = options.outDir
      ? await createRunFolder(resolve(options.cwd ?? process.cwd(), options.outDir), false)
      : await createRunFolder(defaultFolder(scenario.name, options.cwd), true);
    const startedAt = new Date().toISOString();
    const reports: RunReport[] = new Array(runs);
    let next = 1;
    const worker = async (): Promise<void> => {
      while (next <= runs && !options.signal?.aborted) {
        const run = next++;
        const dir = runs === 1 ? outDir : join(outDir, `run-${run}`);
        const record = await runOnce(prepared, {
          run,
          dir,
          url: target.url,
          apiKey: target.apiKey,
          signal: options.signal ?? new AbortController().signal,
          ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
          ...(options.onTurn ? { onTurn: options.onTurn } : {}),
        });
        const report = runReport(record, evaluateRun(scenario, record));
        reports[run - 1] = report;
        if (runs > 1) await writeFile(join(dir, 'report.json'), `${jsonText(report, { space: 2 })}\n`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const done = reports.filter((report) => report !== undefined);
    const report: Report = {
      scenario: scenario.name,
      file: scenario.path,
      outDir,
      url: options.mock ? 'mock' : target.url,
      mock: options.mock === true,
      startedAt,
      passed: done.length === runs && done.every((run) => run.passed),
      summary: summarizeRuns(done),
      runs: done,
    };
    // Server text (error messages, transcripts) and the --url are in there: redacted like the screen.
    await writeFile(join(outDir, 'report.json'), `${jsonText(report, { space: 2 })}\n`);
    await writeFile(join(outDir, 'report.md'), redact(renderMarkdown(report)));
    return report;
  } finally {
    await target.close();
  }
}

/** Where sessions go: the in-process simulator for --mock, else the given URL and key. */
async function connectTarget(prepared: PreparedScenario, options: SuiteOptions): Promise<{ url: string; apiKey: string; close: () => Promise<void> }> {
  if (!options.mock) {
    if (!options.url) throw new HydraError('usage', 'no endpoint: pass --url or --mock');
    if (!options.apiKey) {
      throw new HydraError('no-api-key', 'no API key: set SMALLEST_API_KEY (or pass --api-key)', { hint: 'to run the scenario offline, add --mock' });
    }
    return { url: options.url, apiKey: options.apiKey, close: async () => undefined };
  }
  const { createSimulator } = await import('../mock/server.js');
  const responseDelayMs = options.responseDelayMs ?? prepared.scenario.mock?.responseDelayMs;
  const simulator = await createSimulator({
    profile: 'aug-2026',
    rules: prepared.rules,
    ...(responseDelayMs === undefined ? {} : { responseDelayMs }),
  });
  return { url: simulator.url, apiKey: 'mock-key', close: () => simulator.close() };
}

function defaultFolder(name: string, cwd = process.cwd()): string {
  const now = new Date();
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return join(cwd, 'runs', `${name}-${stamp}`);
}

/** Creates the folder; a default-named one that already exists gets a -2, -3… suffix. */
async function createRunFolder(dir: string, unique: boolean): Promise<string> {
  try {
    if (!unique) {
      await mkdir(dir, { recursive: true });
      return dir;
    }
    await mkdir(dirname(dir), { recursive: true });
    for (let n = 1; ; n += 1) {
      const candidate = n === 1 ? dir : `${dir}-${n}`;
      try {
        await mkdir(candidate);
        return candidate;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
  } catch (error) {
    throw new HydraError('output-file', `cannot create run folder ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}
