/** Percentiles, rows and the results table (console and Markdown). */

export type Stats = { n: number; p50: number; p95: number; p99: number; max: number; min: number; mean: number };

/** Nearest-rank percentiles of a sample; null when empty. */
export function stats(values: readonly number[]): Stats | null {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return {
    n: sorted.length,
    p50: rank(50),
    p95: rank(95),
    p99: rank(99),
    max: sorted[sorted.length - 1]!,
    min: sorted[0]!,
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
  };
}

/** One line of the results table. `ours`/`baseline` are samples (or a single value). */
export type Row = {
  id: string;
  figure: string;
  unit: string;
  target: string;
  ours: Stats | null;
  baseline?: Stats | null;
  /** true/false when the target applies to this row, null when informative only. */
  met: boolean | null;
  /** No ratio: the two sides measure different states (e.g. a fed vs. a starved stream). */
  noRatio?: boolean;
  note?: string;
};

export function fmt(value: number | undefined | null, digits?: number): string {
  if (value === undefined || value === null || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const d = digits ?? (abs >= 100 ? 0 : abs >= 10 ? 1 : 2);
  return value.toFixed(d);
}

export function triple(s: Stats | null | undefined): string {
  if (!s) return '–';
  if (s.n === 1) return `${fmt(s.p50)}`;
  return `${fmt(s.p50)} / ${fmt(s.p95)} / ${fmt(s.max)}`;
}

export function ratio(row: Row): string {
  if (!row.ours || !row.baseline || row.noRatio) return '';
  if (row.baseline.p50 <= 0 || row.ours.p50 < 0) return '';
  if (row.baseline.p50 === 0) return row.ours.p50 === 0 ? '1.00' : '∞';
  const r = row.ours.p50 / row.baseline.p50;
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2);
}

const mark = (met: boolean | null): string => (met === null ? '' : met ? 'met' : 'MISSED');

function cells(row: Row): string[] {
  return [
    row.id,
    `${row.figure} (${row.unit})`,
    row.target,
    triple(row.ours),
    row.ours ? String(row.ours.n) : '0',
    row.baseline === undefined ? '' : triple(row.baseline),
    ratio(row),
    mark(row.met),
  ];
}

const HEADER = ['#', 'figure', 'target', 'ours p50 / p95 / max', 'n', 'baseline p50 / p95 / max', 'ours/base p50', ''];

/** A fixed-width table for the terminal. */
export function consoleTable(rows: readonly Row[]): string {
  const body = rows.map(cells);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 1 || i === 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The same table in Markdown. */
export function markdownTable(rows: readonly Row[]): string {
  const esc = (c: string): string => c.replace(/\|/g, '\\|');
  const out = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`];
  for (const row of rows) out.push(`| ${cells(row).map(esc).join(' | ')} |`);
  return out.join('\n');
}

/** Stats of a single measured value. */
export function single(value: number | null | undefined): Stats | null {
  return value === null || value === undefined ? null : stats([value]);
}
