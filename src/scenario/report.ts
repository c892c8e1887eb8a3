/**
 * The report of one or more runs of a scenario: per-run verdicts, and the aggregate the Hydra
 * benchmark uses (hydra-protocol §9): pass rate (share of turns that pass, plus runs that pass),
 * non-tool V2V median and max, tool V2V mean with the means of its five §9.2 steps. Rendered as a
 * plain-text table for the terminal, as report.md, and as the report.json object. Pure.
 */
import { summarize } from '../metrics.js';
import { oneLine } from '../ui/sanitize.js';
import { displayWidth } from '../ui/width.js';
import type { Check, RunVerdict } from './expectations.js';
import type { RunRecord } from './runner.js';
import type { TurnRecord } from './tracker.js';

export type ToolSteps = {
  /** 1. speech_stopped → first arguments delta (server). */
  argsStartMs: number;
  /** 2. first delta → arguments done (server). */
  argsStreamMs: number;
  /** 3. arguments done → tool output sent (client: runs the tool). */
  toolRunMs: number;
  /** 4. output sent → response.create (client: debounce). */
  responseCreateMs: number;
  /** 5. response.create → first narration audio (server). */
  narrationMs: number;
};

export type Summary = {
  runs: number;
  passedRuns: number;
  turns: number;
  passedTurns: number;
  /** Share of turns that pass, 0–100 (the benchmark's pass rate). */
  passRate: number;
  nonToolV2v: { count: number; medianMs: number | null; maxMs: number | null };
  toolV2v: { count: number; meanMs: number | null; steps: ToolSteps | null };
  retries: number;
};

export type TurnReport = {
  turn: number;
  passed: boolean;
  checks: Check[];
  heard: number;
  v2vMs: number | null;
  kind: 'plain' | 'tool' | null;
  toolSteps: ToolSteps | null;
  calls: TurnRecord['calls'];
  replyMs: number;
  interrupted: boolean;
  timedOut: boolean;
  errors: TurnRecord['errors'];
};

export type RunReport = {
  run: number;
  dir: string;
  sessionId: string;
  ended: RunRecord['ended'];
  error?: RunRecord['error'];
  durationMs: number;
  passed: boolean;
  reason: string | null;
  session: Check[];
  /** What the model said before the first turn (the greeting), if anything. */
  greeting: { replyMs: number; interrupted: boolean } | null;
  turns: TurnReport[];
  errors: RunRecord['errors'];
  warnings: RunRecord['warnings'];
  retries: RunRecord['retries'];
};

export type Report = {
  scenario: string;
  file: string;
  outDir: string;
  url: string;
  mock: boolean;
  startedAt: string;
  passed: boolean;
  summary: Summary;
  runs: RunReport[];
};

export function runReport(record: RunRecord, verdict: RunVerdict): RunReport {
  return {
    run: record.run,
    dir: record.dir,
    sessionId: record.sessionId,
    ended: record.ended,
    ...(record.error ? { error: record.error } : {}),
    durationMs: Math.round(record.durationMs),
    passed: verdict.passed,
    reason: verdict.reason,
    session: verdict.session,
    greeting: record.opening.responses.length > 0 ? { replyMs: Math.round(record.opening.replyMs), interrupted: record.opening.interrupted } : null,
    turns: record.turns.map((turn, i) => {
      const checks = verdict.turns[i]!;
      return {
        turn: turn.index,
        passed: checks.passed,
        checks: checks.checks,
        heard: turn.heard,
        v2vMs: turn.metric ? round(turn.metric.v2vMs) : null,
        kind: turn.metric?.kind ?? null,
        toolSteps: turn.metric?.kind === 'tool' ? steps(turn.metric.tool) : null,
        calls: turn.calls,
        replyMs: Math.round(turn.replyMs),
        interrupted: turn.interrupted,
        timedOut: turn.timedOut,
        errors: turn.errors,
      };
    }),
    errors: record.errors,
    warnings: record.warnings,
    retries: record.retries,
  };
}

function steps(t: { argsStartMs: number; argsDoneMs: number; outputsSentMs: number; responseCreateMs: number; narrationStartMs: number }): ToolSteps {
  return {
    argsStartMs: round(t.argsStartMs),
    argsStreamMs: round(t.argsDoneMs - t.argsStartMs),
    toolRunMs: round(t.outputsSentMs - t.argsDoneMs),
    responseCreateMs: round(t.responseCreateMs - t.outputsSentMs),
    narrationMs: round(t.narrationStartMs - t.responseCreateMs),
  };
}

export function summarizeRuns(runs: readonly RunReport[]): Summary {
  const turns = runs.flatMap((run) => run.turns);
  const plain = turns.flatMap((turn) => (turn.kind === 'plain' && turn.v2vMs !== null ? [turn.v2vMs] : []));
  const tool = turns.filter((turn) => turn.kind === 'tool' && turn.toolSteps !== null);
  const plainSummary = summarize(plain);
  const toolSummary = summarize(tool.map((turn) => turn.v2vMs!));
  const mean = (pick: (s: ToolSteps) => number): number => round(tool.reduce((sum, turn) => sum + pick(turn.toolSteps!), 0) / tool.length);
  const passedTurns = turns.filter((turn) => turn.passed).length;
  return {
    runs: runs.length,
    passedRuns: runs.filter((run) => run.passed).length,
    turns: turns.length,
    passedTurns,
    passRate: turns.length === 0 ? 0 : round((passedTurns / turns.length) * 100),
    nonToolV2v: { count: plainSummary.count, medianMs: roundOrNull(plainSummary.medianMs), maxMs: roundOrNull(plainSummary.maxMs) },
    toolV2v: {
      count: toolSummary.count,
      meanMs: roundOrNull(toolSummary.meanMs),
      steps:
        tool.length === 0
          ? null
          : {
              argsStartMs: mean((s) => s.argsStartMs),
              argsStreamMs: mean((s) => s.argsStreamMs),
              toolRunMs: mean((s) => s.toolRunMs),
              responseCreateMs: mean((s) => s.responseCreateMs),
              narrationMs: mean((s) => s.narrationMs),
            },
    },
    retries: runs.reduce((sum, run) => sum + run.retries.length, 0),
  };
}

/** One progress line for a turn whose reply is over. */
export function progressLine(run: number, runs: number, turns: number, turn: TurnRecord): string {
  const parts = [`${runs > 1 ? `run ${run} ` : ''}turn ${turn.index}/${turns}`];
  if (turn.heard === 0) parts.push('not heard');
  if (turn.metric) parts.push(`v2v ${Math.round(turn.metric.v2vMs)} ms`);
  if (turn.calls.length > 0) parts.push(`tools ${turn.calls.map((call) => call.name).join(', ')}`);
  parts.push(`reply ${(turn.replyMs / 1000).toFixed(1)} s`);
  if (turn.interrupted) parts.push('interrupted');
  if (turn.timedOut) parts.push('no reply (timed out)');
  if (turn.errors.length > 0) parts.push(`errors ${turn.errors.map((error) => error.code).join(', ')}`);
  return parts.join('  ');
}

const HEADER = ['run', 'turn', 'v2v ms', 'tools', 'reply ms', 'cut', 'result'];

/** The table's rows; a cell is one clean line (tool names and failure details carry model and server text). */
function rows(report: Report): string[][] {
  return tableRows(report).map((row) => row.map(oneLine));
}

function tableRows(report: Report): string[][] {
  return report.runs.flatMap((run) => [
    ...run.turns.map((turn) => [
      String(run.run),
      String(turn.turn),
      turn.v2vMs === null ? '-' : String(Math.round(turn.v2vMs)),
      turn.calls.map((call) => call.name).join(',') || '-',
      String(turn.replyMs),
      turn.interrupted ? 'yes' : '',
      turn.passed ? 'pass' : `FAIL ${firstFailure(turn.checks)}`,
    ]),
    ...run.session.filter((check) => !check.ok).map((check) => [String(run.run), '-', '', '', '', '', `FAIL ${check.name}: ${check.detail}`]),
  ]);
}

function firstFailure(checks: Check[]): string {
  const failed = checks.find((check) => !check.ok);
  return failed ? `${failed.name}: ${failed.detail}` : '';
}

function summaryLines(summary: Summary): [string, string][] {
  const { nonToolV2v: plain, toolV2v: tool } = summary;
  const s = tool.steps;
  return [
    ['pass rate', `${summary.passRate.toFixed(1)} % of turns (${summary.passedTurns}/${summary.turns}); runs passed ${summary.passedRuns}/${summary.runs}`],
    ['non-tool V2V', plain.count === 0 ? 'no turns' : `median ${plain.medianMs} ms, max ${plain.maxMs} ms (n=${plain.count})`],
    ['tool V2V', tool.count === 0 ? 'no turns' : `mean ${tool.meanMs} ms (n=${tool.count})`],
    ...(s
      ? ([
          [
            'tool steps',
            `args start ${s.argsStartMs} · args stream ${s.argsStreamMs} · tool run ${s.toolRunMs} · response.create ${s.responseCreateMs} · narration ${s.narrationMs} ms (means)`,
          ],
        ] as [string, string][])
      : []),
    ['retries', String(summary.retries)],
  ];
}

/** The terminal table and summary. */
export function renderText(report: Report): string {
  const table = [HEADER, ...rows(report)];
  const widths = HEADER.map((_, col) => Math.max(...table.map((row) => (col === HEADER.length - 1 ? 0 : displayWidth(row[col]!)))));
  const pad = (cell: string, width: number): string => cell + ' '.repeat(Math.max(0, width - displayWidth(cell)));
  const lines = table.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : pad(cell, widths[col]!))).join('  '));
  const verdict = report.passed ? 'PASSED' : 'FAILED';
  return [
    `scenario ${report.scenario}: ${verdict}`,
    ...lines,
    '',
    ...summaryLines(report.summary).map(([key, value]) => `${key.padEnd(13)} ${value}`),
  ].join('\n');
}

/** report.md */
export function renderMarkdown(report: Report): string {
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  return [
    `# Scenario ${oneLine(report.scenario)}: ${report.passed ? 'passed' : 'failed'}`,
    '',
    `File \`${oneLine(report.file)}\`, ${report.mock ? 'built-in simulator (--mock)' : oneLine(report.url)}, started ${report.startedAt}.`,
    '',
    ...summaryLines(report.summary).map(([key, value]) => `- **${key}**: ${value}`),
    '',
    `| ${HEADER.join(' | ')} |`,
    `| ${HEADER.map(() => '---').join(' | ')} |`,
    ...rows(report).map((row) => `| ${row.map(escape).join(' | ')} |`),
    '',
  ].join('\n');
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : round(value);
}
