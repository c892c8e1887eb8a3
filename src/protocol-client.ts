/**
 * Client → server frames (hydra-protocol.md §7.1) as zod schemas, read strictly: the simulator's view
 * of a client (unknown types and unknown keys are errors). The client itself never loads this module:
 * its frame types are written out in protocol.ts, and the checks at the end keep the two identical.
 */
import { z } from 'zod';
import { parseFrame, type ClientEvent as ClientEventType, type Decoded, type SessionConfig as SessionConfigType, type Tool as ToolType } from './protocol.js';

/** A function tool as declared in session.configure / session.update (§5.1). */
export const Tool = z.strictObject({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
});

/** Client-side item for conversation.item.create, strict so the simulator rejects typos. */
const ClientItem = z.strictObject({
  id: z.string().optional(),
  type: z.enum(['message', 'function_call', 'function_call_output']),
  role: z.enum(['user', 'assistant', 'system']).optional(),
  status: z.enum(['in_progress', 'completed', 'incomplete']).optional(),
  content: z
    .array(z.strictObject({ type: z.enum(['input_audio', 'input_text', 'output_audio', 'output_text']), text: z.string().optional() }))
    .optional(),
  call_id: z.string().optional(),
  name: z.string().optional(),
  arguments: z.string().optional(),
  output: z.string().optional(),
});

const ClientBase = { event_id: z.string().optional() };

/** The documented session.configure keys; anything else is a client bug (§2.2: unknown keys are silently ignored by the server). */
export const SessionConfig = z.strictObject({
  instructions: z.string().optional(),
  voice: z.string().optional(),
  tools: z.array(Tool).optional(),
  generate_initial_response: z.boolean().optional(),
});

export const ClientEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('session.configure'), ...ClientBase, session: SessionConfig }),
  z.strictObject({ type: z.literal('session.update'), ...ClientBase, session: z.strictObject({ tools: z.array(Tool).optional() }) }),
  z.strictObject({ type: z.literal('input_audio_buffer.append'), ...ClientBase, audio: z.string() }),
  z.strictObject({ type: z.literal('conversation.item.create'), ...ClientBase, item: ClientItem }),
  z.strictObject({ type: z.literal('response.create'), ...ClientBase, response: z.record(z.string(), z.unknown()).optional() }),
  z.strictObject({ type: z.literal('response.cancel'), ...ClientBase, response_id: z.string().optional() }),
]);
export const CLIENT_EVENT_TYPES: readonly ClientEventType['type'][] = ClientEvent.options.map((option) => option.shape.type.value);
const CLIENT_TYPES: ReadonlySet<string> = new Set(CLIENT_EVENT_TYPES);

/** Explains a zod failure in one short line: `response_id: expected string`. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(frame)'}: ${issue.message}`)
    .join('; ');
}

/** Simulator side: strict. Unknown types and unknown keys are invalid. */
export function decodeClientFrame(text: string): Decoded<ClientEventType> {
  const parsed = parseFrame(text);
  if ('problem' in parsed) return { kind: 'invalid', problem: parsed.problem };
  const { frame, type } = parsed;
  if (!CLIENT_TYPES.has(type)) return { kind: 'invalid', problem: `unknown type "${type}"`, type };
  const result = ClientEvent.safeParse(frame);
  if (!result.success) return { kind: 'invalid', problem: describeIssues(result.error), type };
  return { kind: 'event', event: result.data };
}

// The types protocol.ts writes out are exactly what these schemas accept (a compile error otherwise).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <T extends true>(): T | undefined => undefined;
same<Same<z.infer<typeof ClientEvent>, ClientEventType>>();
same<Same<z.infer<typeof SessionConfig>, SessionConfigType>>();
same<Same<z.infer<typeof Tool>, ToolType>>();
