/** How `hydra-chat --mock` configures its in-process simulator: `--mock-transcripts`, `--mock-rules <file>`. */
import { HydraError } from '../errors.js';
import type { SimulatorOptions } from './server.js';

/** The chat command's simulator flags, as commander hands them over. */
export type MockFlags = { mock?: boolean; mockTranscripts?: boolean; mockRules?: string };

/**
 * The simulator options for `--mock`: the aug-2026 profile; transcripts when asked; with `--mock-rules`
 * exactly those tool calls, otherwise a declared tool is called on every user turn (round-robin).
 * Throws a usage error when a `--mock-…` flag is given without `--mock`.
 */
export async function mockSimulatorOptions(flags: MockFlags): Promise<SimulatorOptions> {
  const given = [flags.mockTranscripts ? '--mock-transcripts' : '', flags.mockRules !== undefined ? '--mock-rules' : ''].filter(Boolean);
  if (!flags.mock && given.length) throw new HydraError('usage', `${given.join(' and ')} only apply with --mock`, { hint: 'add --mock, or drop the option' });
  const rules = flags.mockRules === undefined ? undefined : await (await import('./rules.js')).loadRules(flags.mockRules);
  return { profile: 'aug-2026', transcripts: flags.mockTranscripts === true, ...(rules ? { rules } : {}) };
}
