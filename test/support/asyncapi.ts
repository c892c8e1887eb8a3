/**
 * Test support: validators for every frame type from Smallest's AsyncAPI spec
 * (test/fixtures/hydra-ws.asyncapi.yaml), with the patches hydra-protocol.md documents (each cited).
 * Used by test/protocol-asyncapi.test.ts and the simulator tests.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the parsed YAML spec is untyped by nature
type Json = Record<string, any>;

const MAY_VOICES = ['wren', 'sloane', 'marlowe', 'reed', 'knox', 'tate'];

function loadValidators(): Map<string, ValidateFunction> {
  const spec = parse(readFileSync(new URL('../fixtures/hydra-ws.asyncapi.yaml', import.meta.url), 'utf8')) as Json;
  const messages = spec.channels.hydraSession.messages as Json;
  const schemas = spec.components.schemas as Json;
  // §2.3: the voice enum lacks the model=hydra (May 2026) roster.
  schemas.SessionConfig.properties.voice.enum.push(...MAY_VOICES);
  // §6.2: `invalid_frame` and `session_ended` are missing from the error code enum.
  messages.errorEvent.payload.properties.error.properties.code.enum.push('invalid_frame', 'session_ended');
  // §2.8, §7.2, §10.2: `warning` is not in the spec; the simulator's assumed shape.
  messages.warningEvent = {
    payload: {
      type: 'object',
      required: ['type', 'warning'],
      properties: {
        type: { type: 'string', enum: ['warning'] },
        event_id: { type: 'string' },
        warning: { type: 'object', required: ['code'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
      },
    },
  };
  // §4.4: the unofficial transcript event.
  messages.transcriptDelta = {
    payload: {
      type: 'object',
      required: ['type', 'delta'],
      properties: {
        type: { type: 'string', enum: ['response.output_audio_transcript.delta'] },
        event_id: { type: 'string' },
        response_id: { type: 'string' },
        item_id: { type: 'string' },
        delta: { type: 'string' },
      },
    },
  };
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  ajv.addSchema(spec, 'hydra');
  const validators = new Map<string, ValidateFunction>();
  for (const [name, message] of Object.entries(messages)) {
    const type = (message as Json).payload.properties.type.enum[0] as string;
    validators.set(type, ajv.compile({ $ref: `hydra#/channels/hydraSession/messages/${name}/payload` }));
  }
  return validators;
}

let validators: Map<string, ValidateFunction> | undefined;

/** '' when `frame` is valid against its type's AsyncAPI payload schema, else what is wrong. */
export function asyncapiProblems(frame: Record<string, unknown>): string {
  validators ??= loadValidators();
  const validate = validators.get(String(frame.type));
  if (!validate) return `type ${String(frame.type)} is not in the spec`;
  if (validate(frame)) return '';
  return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message}`).join('; ');
}
