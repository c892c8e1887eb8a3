/**
 * Expectations → verdicts. Each expectation of a turn or of the scenario becomes a check with a
 * pass/fail and a one-line reason; a run passes when the script completed and every check holds. Pure.
 */
import type { CallRecord, TurnRecord } from './tracker.js';
import type { RunRecord } from './runner.js';
import { redact } from '../redact.js';
import { argumentsMatch } from './match.js';
import { expectedCalls, type Scenario, type ToolExpect } from './schema.js';

export type Check = { name: string; ok: boolean; detail: string };
export type TurnVerdict = { turn: number; passed: boolean; checks: Check[] };
export type RunVerdict = { passed: boolean; session: Check[]; turns: TurnVerdict[]; reason: string | null };

export function evaluateRun(scenario: Scenario, run: RunRecord): RunVerdict {
  const turns = scenario.turns.map((turn, i): TurnVerdict => {
    const checks = turnChecks(turn.expect, run.turns[i]!);
    return { turn: i + 1, passed: checks.every((check) => check.ok), checks };
  });
  const session = sessionChecks(scenario, run);
  const failures = [
    ...session.filter((check) => !check.ok).map((check) => `${check.name}: ${check.detail}`),
    ...turns.flatMap((verdict) => verdict.checks.filter((check) => !check.ok).map((check) => `turn ${verdict.turn} ${check.name}: ${check.detail}`)),
  ];
  return { passed: failures.length === 0, session, turns, reason: failures[0] ?? null };
}

function turnChecks(expect: Scenario['turns'][number]['expect'], rec: TurnRecord): Check[] {
  // A turn that was never spoken, or whose reply never came, is a miss whatever it expected.
  if (rec.spokeAtMs === undefined) return [{ name: 'spoken', ok: false, detail: 'the run ended before this turn' }];
  const checks: Check[] = rec.timedOut ? [{ name: 'reply', ok: false, detail: 'gave up waiting for the reply (replyTimeoutMs)' }] : [];
  if (!expect) return checks;
  const wanted = expectedCalls(expect);
  if (wanted.length > 0) checks.push(toolCheck(wanted, rec.calls));
  if (expect.noTool === true) {
    checks.push({ name: 'noTool', ok: rec.calls.length === 0, detail: rec.calls.length === 0 ? 'no tool called' : `called ${rec.calls.map(describeCall).join(', ')}` });
  }
  if (expect.minReplyMs !== undefined) {
    const ok = rec.replyMs >= expect.minReplyMs;
    checks.push({ name: 'minReplyMs', ok, detail: `${Math.round(rec.replyMs)} ms of reply played (${ok ? '≥' : '<'} ${expect.minReplyMs} ms)` });
  }
  if (expect.maxV2vMs !== undefined) {
    const v2v = rec.metric?.v2vMs;
    const ok = v2v !== undefined && v2v <= expect.maxV2vMs;
    checks.push({ name: 'maxV2vMs', ok, detail: v2v === undefined ? 'no reply audio, so no V2V' : `V2V ${Math.round(v2v)} ms (${ok ? '≤' : '>'} ${expect.maxV2vMs} ms)` });
  }
  if (expect.notInterrupted !== undefined) {
    const ok = rec.interrupted !== expect.notInterrupted;
    checks.push({ name: 'notInterrupted', ok, detail: rec.interrupted ? 'the reply was cut off' : 'the reply played to its end' });
  }
  if (expect.interrupted !== undefined) {
    const ok = rec.interrupted === expect.interrupted;
    checks.push({ name: 'interrupted', ok, detail: rec.interrupted ? 'the reply was cut off' : 'the reply was not interrupted' });
  }
  return checks;
}

/** Every expected call must be matched by a distinct actual call of the turn. */
function toolCheck(wanted: ToolExpect[], calls: CallRecord[]): Check {
  const unused = [...calls];
  for (const expected of wanted) {
    const sameName = unused.filter((call) => call.name === expected.name);
    const match = sameName.find((call) => expected.arguments === undefined || argumentsMatch(expected.arguments, call.argumentsText).ok);
    if (match === undefined) {
      const why = sameName[0] && expected.arguments ? argumentsMatch(expected.arguments, sameName[0].argumentsText) : null;
      const got = calls.length === 0 ? 'no tool was called' : `got ${calls.map(describeCall).join(', ')}`;
      return { name: 'tool', ok: false, detail: `expected ${expected.name}${why && !why.ok ? ` (${why.why})` : ''}; ${got}` };
    }
    unused.splice(unused.indexOf(match), 1);
  }
  return { name: 'tool', ok: true, detail: `called ${calls.map(describeCall).join(', ')}` };
}

function describeCall(call: CallRecord): string {
  // Redacted before it is cut (a key in the arguments must not be cut into a readable prefix).
  const args = redact(call.argumentsText);
  return `${call.name}(${args.length > 60 ? `${args.slice(0, 57)}...` : args})`;
}

function sessionChecks(scenario: Scenario, run: RunRecord): Check[] {
  const checks: Check[] = [];
  const ended: Record<RunRecord['ended'], string> = {
    completed: 'the script ran to its end',
    error: `the session failed: ${run.error?.message ?? 'unknown error'}`,
    'server-closed': 'the server closed the session before the script finished',
    interrupted: 'the run was interrupted',
  };
  checks.push({ name: 'session', ok: run.ended === 'completed', detail: ended[run.ended] });
  const expect = scenario.expect;
  if (expect?.noErrors !== undefined && expect.noErrors !== false) {
    const codes = expect.noErrors;
    const bad = run.errors.filter((error) => codes === true || codes.includes(error.code));
    checks.push({
      name: 'noErrors',
      ok: bad.length === 0,
      detail: bad.length === 0 ? 'no error frames' : `error frames: ${bad.map((error) => `${error.code} (${error.message})`).join('; ')}`,
    });
  }
  if (expect?.allTurnsAnswered === true) {
    const missing = run.turns.filter((turn) => turn.timedOut || (turn.metric === undefined && turn.replyMs === 0)).map((turn) => turn.index);
    checks.push({
      name: 'allTurnsAnswered',
      ok: missing.length === 0,
      detail: missing.length === 0 ? 'every turn got a spoken reply' : `no spoken reply to turn ${missing.join(', ')}`,
    });
  }
  return checks;
}
