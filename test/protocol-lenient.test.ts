/**
 * Issue 13 item 7 and its siblings: one odd optional field must not cost a whole server frame (and with
 * it, the session). The decoder keeps what is usable and the reducer says what it dropped, once.
 */
import { describe, expect, it } from 'vitest';
import { decodeServerFrame, droppedFieldsOf, type ServerEvent } from '../src/protocol.js';
import { parseWithSchema } from './support/server-event-schema.js';
import { initialState, reduce, type Effect, type State } from '../src/session.js';

function event(frame: Record<string, unknown>): ServerEvent {
  const decoded = decodeServerFrame(JSON.stringify(frame));
  if (decoded.kind !== 'event') throw new Error(`not decoded as an event: ${JSON.stringify(decoded)}`);
  return decoded.event;
}

function feed(frames: Record<string, unknown>[], state: State = initialState({ voice: 'wren' })): { state: State; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const frame of frames) {
    const result = reduce(state, { type: 'server', event: event(frame), at: 0 });
    state = result.state;
    effects.push(...result.effects);
  }
  return { state, effects };
}

const configured = (session: Record<string, unknown>) => ({ type: 'session.configured', event_id: 'sv_1', session });
const anomalies = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'show' && e.note.kind === 'anomaly' ? [e.note] : []));

describe('session.configured is read leniently', () => {
  it.each([
    ['instructions: null', { instructions: null }],
    ['voice: null', { voice: null }],
    ['tools: null', { tools: null }],
    ['every optional field null', { instructions: null, voice: null, tools: null, generate_initial_response: null, output_audio_format: null, output_audio_sample_rate: null }],
  ])('%s configures the session (null reads as absent, silently)', (_name, session) => {
    const { state, effects } = feed([configured(session)]);
    expect(state.configured).toBe(true);
    expect(state.outputSampleRate).toBe(48000);
    expect(anomalies(effects)).toEqual([]);
  });

  it('a rate sent as a string that is a whole number is used', () => {
    const decoded = event(configured({ voice: 'wren', output_audio_sample_rate: '24000' }));
    expect(decoded.type === 'session.configured' && decoded.session?.output_audio_sample_rate).toBe(24000);
    expect(feed([configured({ output_audio_sample_rate: '48000' })]).state.outputSampleRate).toBe(48000);
  });

  it.each([44100.5, 'fast', -24000, 0, 1e12, true, [48000]])('rate %j: 48 000, the voice kept, and one note naming the field', (rate) => {
    const { state, effects } = feed([configured({ voice: 'wren', output_audio_sample_rate: rate })]);
    expect(state.configured).toBe(true);
    expect(state.outputSampleRate).toBe(48000);
    const configuredNote = effects.find((e) => e.type === 'show' && e.note.kind === 'configured');
    expect(configuredNote).toMatchObject({ note: { voice: 'wren', outputSampleRate: 48000 } });
    const notes = anomalies(effects);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.message).toContain('session.output_audio_sample_rate');
  });

  it('a voice or tools of the wrong type are dropped with a note; the rest is used', () => {
    const { state, effects } = feed([configured({ voice: 42, tools: 'none', output_audio_sample_rate: 16000 })]);
    expect(state.outputSampleRate).toBe(16000);
    expect(anomalies(effects)[0]!.message).toMatch(/session\.voice \(42\).*session\.tools \("none"\)/);
    expect(droppedFieldsOf(event(configured({ voice: 42 })))).toEqual(['session.voice (42)']);
    // The notes are not part of the frame as logged.
    expect(JSON.stringify(event(configured({ voice: 42 })))).not.toContain('dropped');
  });
});

describe('siblings: other frames whose loss would hang the session', () => {
  it('response.done with an unknown status or null details still ends the response', () => {
    const { state } = feed([
      configured({}),
      { type: 'input_audio_buffer.speech_stopped', item_id: null, audio_end_ms: null },
      { type: 'response.created', response: { id: 'r1', status: null } },
      { type: 'response.done', response: { id: 'r1', status: 'paused', status_details: null, usage: { total_tokens: null }, output: null } },
    ]);
    expect(state.responseId).toBeNull();
    expect(state.phase).toBe('listening');
  });

  it('response.done without a status still ends the response, with a note (it was a malformed frame before)', () => {
    const { state, effects } = feed([configured({}), { type: 'response.created', response: { id: 'r1' } }, { type: 'response.done', response: { id: 'r1' } }]);
    expect(state.responseId).toBeNull();
    expect(anomalies(effects).map((note) => note.message).join(' ')).toContain('response.status (missing)');
  });

  it('a user item with an unknown role or status field keeps the noise discard that ends the wait', () => {
    const { state } = feed([
      configured({}),
      { type: 'input_audio_buffer.speech_stopped' },
      { type: 'conversation.item.done', previous_item_id: null, item: { id: 'i', type: 'message', role: 'user', status: 'incomplete', content: [{ type: 'input_audio', text: null }, { type: 'transcript' }] } },
    ]);
    expect(state.awaitingReply).toBe(false);
  });

  it('function_call_arguments.done with the arguments as an object, or without a name, still runs the call', () => {
    const { effects } = feed([
      configured({}),
      { type: 'response.created', response: { id: 'r1' } },
      { type: 'response.function_call_arguments.delta', call_id: 'c1', name: 'get_weather', delta: '{"ci', item_id: null },
      { type: 'response.function_call_arguments.done', call_id: 'c1', arguments: { city: 'Oslo' } },
    ]);
    expect(effects.filter((e) => e.type === 'run-tool')).toEqual([{ type: 'run-tool', callId: 'c1', name: 'get_weather', argumentsText: '{"city":"Oslo"}' }]);
  });

  it('function_call_arguments.done with null, a number or an array as arguments still makes a call (answered with an error output)', () => {
    for (const [value, text] of [[null, 'null'], [42, '42'], [['Oslo'], '["Oslo"]']] as const) {
      const { effects } = feed([
        configured({}),
        { type: 'response.created', response: { id: 'r1' } },
        { type: 'response.function_call_arguments.done', call_id: 'c1', name: 'get_weather', arguments: value },
      ]);
      expect(effects.filter((e) => e.type === 'run-tool')).toEqual([{ type: 'run-tool', callId: 'c1', name: 'get_weather', argumentsText: text }]);
    }
  });

  it('error and warning frames with null fields are shown, not dropped', () => {
    const { effects } = feed([
      { type: 'error', error: { type: 'invalid_request_error', code: null, message: 'bad voice', param: null, event_id: null } },
      { type: 'warning', warning: null, code: 'model_deprecated', message: null },
    ]);
    expect(effects.map((e) => e.type === 'show' && e.note)).toEqual([
      { kind: 'server-error', code: 'invalid_request_error', message: 'bad voice' },
      { kind: 'warning', code: 'model_deprecated', message: '' },
    ]);
  });

  it('audio deltas: the fast path keeps documented frames as they are and still rejects malformed ones', () => {
    const frame = { type: 'response.output_audio.delta', event_id: 'e', response_id: 'r', item_id: 'i', output_index: 0, content_index: 0, delta: 'AAAA', extra: 1 };
    expect(decodeServerFrame(JSON.stringify(frame))).toEqual({ kind: 'event', event: frame });
    expect(decodeServerFrame(JSON.stringify({ ...frame, output_index: null }))).toMatchObject({ kind: 'event', event: { delta: 'AAAA', response_id: 'r' } });
    expect(decodeServerFrame(JSON.stringify({ ...frame, delta: null })).kind).toBe('invalid');
    expect(decodeServerFrame(JSON.stringify({ ...frame, response_id: ['r'] })).kind).toBe('invalid');
  });
});

describe('hot frames (audio deltas, speech_started): the hand-written decoder gives the schema\'s result', () => {
  const schema = (frame: Record<string, unknown>) => {
    const result = parseWithSchema(frame);
    if (!result.success) throw new Error('schema refused it');
    return result;
  };
  const viaSchema = (frame: Record<string, unknown>): ServerEvent => schema(frame).data as ServerEvent;
  it.each([
    { type: 'input_audio_buffer.speech_started', event_id: 'e1', audio_start_ms: 1200, item_id: 'i1' },
    { type: 'input_audio_buffer.speech_started' },
    { type: 'input_audio_buffer.speech_started', audio_start_ms: 'soon', item_id: 7, extra: { kept: true } },
    { type: 'input_audio_buffer.speech_started', audio_start_ms: null },
    { type: 'response.output_audio.delta', response_id: 'r1', delta: 'AAAA', output_index: 0, content_index: 0, item_id: 'i' },
    { type: 'response.output_audio.delta', response_id: 'r1', delta: 'AAAA', output_index: '0' },
  ])('%j', (frame) => {
    const decoded = event(frame);
    expect(decoded).toEqual(viaSchema(frame));
    expect(droppedFieldsOf(decoded)).toEqual(schema(frame).dropped);
  });

  it.each([
    '{"type":"input_audio_buffer.speech_started","audio_start_ms":1e999}',
    '{"type":"response.output_audio.delta","response_id":"r1","delta":"AAAA","output_index":1e999}',
  ])('a number too large for a double (1e999 parses as Infinity) is dropped, as the schema drops it: %s', (text) => {
    const decoded = decodeServerFrame(text);
    expect(decoded.kind).toBe('event');
    const schema = viaSchema(JSON.parse(text) as Record<string, unknown>);
    expect(Object.values(schema)).not.toContain(Infinity);
    if (decoded.kind === 'event') expect(decoded.event).toEqual(schema);
  });
});

describe('a malformed nested field is reported once, by its own path', () => {
  it.each([
    ['response.created with a numeric id', { type: 'response.created', event_id: 'sv_1', response: { id: 5 } }, 'response.id: expected string, received number'],
    ['response.done with an object id', { type: 'response.done', event_id: 'sv_1', response: { id: {}, status: 'completed' } }, 'response.id: expected string, received object'],
  ])('%s', (_name, frame, problem) => {
    // Not also "response: expected object, received object", which contradicts itself.
    expect(decodeServerFrame(JSON.stringify(frame))).toEqual({ kind: 'invalid', type: frame.type, problem });
  });
});
