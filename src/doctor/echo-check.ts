/**
 * HOOK for the lead: doctor's echo test. The "aec" helper builds `hydra-chat echo-test` (its own command
 * file); once it is merged, run it here (speaker plays a probe, the mic listens) and map its result to a
 * Check. Until then doctor says the test is not part of this build.
 */
import type { Check } from './check.js';
import { skip } from './check.js';

export type EchoCheckInput = { inputDevice?: string | undefined; outputDevice?: string | undefined; signal: AbortSignal };

export async function echoCheck(input: EchoCheckInput): Promise<Check> {
  void input;
  return skip('echo test', 'not in this build: `hydra-chat echo-test` is not available (doctor hook: src/doctor/echo-check.ts)');
}
