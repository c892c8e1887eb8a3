/** Deterministic tool-call rules: on user turn N, call these tools with these arguments. */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { HydraError } from '../errors.js';

/** One rule: `turn` is the 1-based count of completed user turns. */
export const ToolRule = z.strictObject({
  turn: z.number().int().positive(),
  calls: z.array(z.strictObject({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()) })).min(1),
});
export type ToolRule = z.infer<typeof ToolRule>;

const RulesFile = z.union([z.array(ToolRule), z.strictObject({ rules: z.array(ToolRule) })]);

/** Load rules from a JSON file: either `[rule, …]` or `{ "rules": [rule, …] }`. */
export async function loadRules(path: string): Promise<ToolRule[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new HydraError('config-invalid', `cannot read rules file ${path}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new HydraError('config-invalid', `rules file ${path} is not valid JSON`, { cause: error });
  }
  const parsed = RulesFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HydraError('config-invalid', `rules file ${path}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`, {
      hint: 'expected [{ "turn": 1, "calls": [{ "name": "get_weather", "arguments": { "city": "Paris" } }] }]',
    });
  }
  return Array.isArray(parsed.data) ? parsed.data : parsed.data.rules;
}

/** The calls a rule asks for on `turn`, limited to declared tools (an undeclared tool is never called, §5.1). */
export function callsForTurn(rules: readonly ToolRule[], turn: number, declared: readonly string[]): { name: string; arguments: string }[] {
  return rules
    .filter((rule) => rule.turn === turn)
    .flatMap((rule) => rule.calls)
    .filter((call) => declared.includes(call.name))
    .map((call) => ({ name: call.name, arguments: JSON.stringify(call.arguments) }));
}
