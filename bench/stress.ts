/**
 * The long soak (issue 7): hundreds of accelerated turns with tool calls and barge-ins through the real
 * engine and the in-process simulator, sampling RSS, heap and active handles as it goes.
 *   node --expose-gc --import jiti/register bench/stress.ts [turns=400] [speed=10]
 * Prints one JSON line (stdout) and a summary (stderr).
 */
import { stress } from '../test/support/stress.js';

const turns = Number(process.argv[2] ?? 400);
const speed = Number(process.argv[3] ?? 10);
const result = await stress({ turns, speed, toolEvery: 3, bargeEvery: 4, sampleEvery: Math.max(1, Math.floor(turns / 20)) });
const samples = result.samples;
const first = samples[Math.min(1, samples.length - 1)]; // after warm-up
const last = samples.at(-1);
const round = (value: number | undefined) => (value === undefined ? null : Number(value.toFixed(1)));
const summary = {
  turns: result.turns,
  answered: result.answered,
  bargeIns: result.bargeIns,
  interruptions: result.interruptions,
  toolCalls: result.toolCalls,
  anomalies: result.anomalies,
  outcome: result.outcome,
  wallS: round(result.wallS),
  rssMB: { before: round(result.baseline.rssMB), warm: round(first?.rssMB), end: round(last?.rssMB), max: round(Math.max(...samples.map((s) => s.rssMB))), after: round(result.after.rssMB) },
  heapMB: { before: round(result.baseline.heapMB), warm: round(first?.heapMB), end: round(last?.heapMB), after: round(result.after.heapMB) },
  handles: { before: result.baseline.handles, during: [Math.min(...samples.map((s) => s.handles)), Math.max(...samples.map((s) => s.handles))], after: result.after.handles, afterKinds: result.after.kinds },
  gc: typeof (globalThis as { gc?: unknown }).gc === 'function',
};
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.stderr.write(
  `stress: ${summary.turns} turns (${summary.bargeIns} barge-ins, ${summary.interruptions} interrupted replies, ${summary.toolCalls} tool calls) in ${summary.wallS} s; ` +
    `RSS ${summary.rssMB.warm} → ${summary.rssMB.end} MB (max ${summary.rssMB.max}), heap ${summary.heapMB.warm} → ${summary.heapMB.end} MB, ` +
    `handles ${summary.handles.before} before, ${summary.handles.during.join('–')} during, ${summary.handles.after} after\n`,
);
process.exit(0);
