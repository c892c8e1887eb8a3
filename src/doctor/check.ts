/** One line of `hydra-chat doctor`: what was checked, how it went, and the one command that fixes it. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export type Check = {
  name: string;
  status: CheckStatus;
  detail: string;
  /** The one command (or step) that fixes a failure. */
  fix?: string;
  /** A failure here means live chat cannot work (doctor exits non-zero). */
  blocks?: boolean;
};

/** doctor's exit code when something blocks live chat (README's exit-code table). */
export const DOCTOR_EXIT = 20;

export function ok(name: string, detail: string): Check {
  return { name, status: 'ok', detail };
}

export function fail(name: string, detail: string, fix: string, blocks = true): Check {
  return { name, status: 'fail', detail, fix, blocks };
}

export function skip(name: string, detail: string): Check {
  return { name, status: 'skip', detail };
}
