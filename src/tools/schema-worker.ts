/**
 * Checks arguments against a JSON Schema in a worker thread, so a schema whose regular expressions
 * backtrack catastrophically on a model-chosen string (`"pattern": "^(a+)+$"` against 40 a's and a
 * '!') costs the call its timeout, not the CLI its main thread: signals, the UI and the other calls
 * go on. One worker serves every call in turn; when a call gives up (its timeout, a quit) while
 * checks are in flight, the worker is terminated (which stops a running regex) and the other
 * checks are sent again to a fresh one. The worker starts when a schema that needs it is compiled
 * (and again right after a restart), so a call does not spend its timeout waiting for it; idle, it
 * does not keep the process alive.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Options } from 'ajv';

export type CheckResult = { ok: true } | { ok: false; problem: string };

// CommonJS source run with `eval`: the same from the TypeScript sources (tests) and from the build.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const AjvModule = require(workerData.ajvPath);
const Ajv = AjvModule.default || AjvModule;
const ajv = new Ajv(workerData.options);
const compiled = new Map();
parentPort.on('message', ({ id, schema, args }) => {
  try {
    let validate = compiled.get(schema);
    if (validate === undefined) {
      const parsed = JSON.parse(schema);
      try {
        validate = ajv.compile(parsed);
      } finally {
        ajv.removeSchema(parsed);
      }
      if (compiled.size >= 64) compiled.delete(compiled.keys().next().value);
      compiled.set(schema, validate);
    }
    const ok = validate(args);
    parentPort.postMessage({ id, ok, problem: ok ? '' : ajv.errorsText(validate.errors, { dataVar: 'arguments' }) });
  } catch (error) {
    parentPort.postMessage({ id, ok: false, problem: String(error && error.message || error) });
  }
});
`;

type Job = { id: number; schema: string; args: unknown; resolve: (result: CheckResult) => void; reject: (error: Error) => void };

export class OffThreadChecker {
  private worker: Worker | null = null;
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  private readonly options: Options;

  constructor(options: Options) {
    this.options = options;
  }

  /** Checks `args`; rejects with the signal's reason as soon as `signal` aborts. */
  check(schema: string, args: unknown, signal: AbortSignal): Promise<CheckResult> {
    if (signal.aborted) return Promise.reject(new Error('stopped'));
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, schema, args, resolve, reject };
      const giveUp = (): void => {
        if (!this.jobs.delete(job.id)) return;
        reject(new Error('stopped'));
        this.restart();
      };
      signal.addEventListener('abort', giveUp, { once: true });
      job.resolve = (result) => {
        signal.removeEventListener('abort', giveUp);
        resolve(result);
      };
      job.reject = (error) => {
        signal.removeEventListener('abort', giveUp);
        reject(error);
      };
      this.jobs.set(job.id, job);
      this.post(job);
    });
  }

  /** Starts the worker ahead of the first check, so that check does not pay for its start-up. */
  warm(): void {
    if (this.jobs.size === 0) this.ensureWorker().unref();
  }

  private post(job: Job): void {
    const worker = this.ensureWorker();
    worker.ref();
    worker.postMessage({ id: job.id, schema: job.schema, args: job.args });
  }

  private ensureWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const ajvPath = createRequire(import.meta.url).resolve('ajv');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ajvPath, options: this.options } });
    worker.on('message', (message: { id: number; ok: boolean; problem: string }) => {
      const job = this.jobs.get(message.id);
      if (job === undefined) return;
      this.jobs.delete(message.id);
      if (this.jobs.size === 0) worker.unref();
      job.resolve(message.ok ? { ok: true } : { ok: false, problem: message.problem });
    });
    worker.on('error', (error) => {
      if (this.worker !== worker) return;
      this.worker = null;
      const jobs = [...this.jobs.values()];
      this.jobs.clear();
      for (const job of jobs) job.reject(new Error(`argument check failed: ${error.message}`));
    });
    this.worker = worker;
    return worker;
  }

  /** Stops the worker (and whatever check it is stuck in); the checks still wanted go to a fresh one. */
  private restart(): void {
    const worker = this.worker;
    this.worker = null;
    void worker?.terminate();
    for (const job of this.jobs.values()) this.post(job);
    this.warm();
  }
}
