/** Per-turn latency records and their summaries (hydra-protocol §9.2). Pure. */

/** Tool-turn decomposition, every figure in ms from `speech_stopped`. */
export type ToolTiming = {
  argsStartMs: number;
  argsDoneMs: number;
  toolRunMs: number;
  outputsSentMs: number;
  responseCreateMs: number;
  narrationStartMs: number;
};

/** V2V = speech_stopped → first audio delta of the answer (of the narration on tool turns). */
export type TurnMetric = { kind: 'plain'; v2vMs: number } | { kind: 'tool'; v2vMs: number; tool: ToolTiming };

type LatencySummary = { count: number; medianMs: number | null; meanMs: number | null; maxMs: number | null };

/** Median, mean and max of a list of latencies (null when empty). */
export function summarize(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { count: 0, medianMs: null, meanMs: null, maxMs: null };
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return { count: sorted.length, medianMs: median, meanMs: mean, maxMs: sorted[sorted.length - 1]! };
}

/** p-th percentile (0–100) by nearest rank. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
