/**
 * Tool parameters as JSON Schema, and argument checking against them. A zod schema is converted
 * with `z.toJSONSchema` (draft-07, input shape: what the model must send) and checked with zod
 * itself so the handler sees zod's parsed value (defaults, transforms); a plain JSON Schema is
 * checked with ajv. Parameter-less tools get the empty object schema of hydra-protocol §5.1.
 */
import AjvModule, { type Ajv, type Options } from 'ajv';
import { z, type ZodType } from 'zod';

const AjvCtor = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as new (options: Options) => Ajv;
// Formats need a plugin we do not ship; unknown keywords are tolerated (descriptions, examples, vendor keys).
const ajv = new AjvCtor({ allErrors: true, strict: false, validateFormats: false, logger: false, addUsedSchema: false });

export type ArgumentCheck = (args: unknown) => { ok: true; value: unknown } | { ok: false; problem: string };

export function isZodSchema(value: unknown): value is ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

/** The JSON Schema declared to the server; throws an Error whose message is the problem. */
export function toJsonSchema(parameters: Record<string, unknown> | ZodType | undefined): Record<string, unknown> {
  if (parameters === undefined) return { type: 'object', properties: {}, required: [] };
  const schema = isZodSchema(parameters) ? convertZod(parameters) : parameters;
  // `$schema` is noise on the wire and may name a draft ajv does not load; the shape is what counts.
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}

function convertZod(schema: ZodType): Record<string, unknown> {
  try {
    return z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`zod schema cannot be expressed as JSON Schema (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** A checker for one tool's arguments; throws an Error when the JSON Schema does not compile. */
export function compileArguments(parameters: Record<string, unknown> | ZodType | undefined, jsonSchema: Record<string, unknown>): ArgumentCheck {
  const validate = ajv.compile(jsonSchema);
  ajv.removeSchema(jsonSchema); // compiled functions stand alone; do not keep every reloaded schema alive
  if (isZodSchema(parameters)) {
    return (args) => {
      const parsed = parameters.safeParse(args);
      if (parsed.success) return { ok: true, value: parsed.data };
      return { ok: false, problem: parsed.error.issues.map((issue) => `${['arguments', ...issue.path.map(String)].join('.')}: ${issue.message}`).join('; ') };
    };
  }
  return (args) => (validate(args) ? { ok: true, value: args } : { ok: false, problem: ajv.errorsText(validate.errors, { dataVar: 'arguments' }) });
}
