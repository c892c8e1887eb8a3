/**
 * doctor's echo test: the same test as `hydra-chat echo-test` (src/echo-test-command.ts), in this
 * process: the speaker plays a probe, the mic listens, and the result becomes one line — the echo path
 * and what to run with. It never blocks live chat: strong echo is a warning (use headphones).
 */
import { HydraError } from '../errors.js';
import type { Check } from './check.js';
import { fail, ok } from './check.js';

export type EchoCheckInput = { inputDevice?: string | undefined; outputDevice?: string | undefined; signal: AbortSignal };

export async function echoCheck(input: EchoCheckInput): Promise<Check> {
  const { runEchoTest } = await import('../echo-test-command.js');
  try {
    const result = await runEchoTest(input, input.signal);
    const path =
      result.delayMs === null
        ? 'no echo heard'
        : `delay ${Math.round(result.delayMs)} ms · coupling ${result.couplingDb} dB · ERLE ${result.erleDb ?? '?'} dB`;
    const detail = `${path} → ${result.recommendation}`;
    return result.echo === 'headphones' ? { name: 'echo test', status: 'warn', detail, fix: 'use headphones (then --echo off), or turn the speaker down' } : ok('echo test', detail);
  } catch (error) {
    const message = error instanceof HydraError || error instanceof Error ? error.message : String(error);
    return fail('echo test', message, 'hydra-chat echo-test --input-device <name> --output-device <name>', false);
  }
}
