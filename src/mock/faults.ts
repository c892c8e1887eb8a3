/**
 * Fault injection for client tests: frames a real server might (or a broken network could) produce.
 * Each fault is sent into one live session; see `Simulator.inject`.
 */
import * as frames from './frames.js';
import { newId } from './ids.js';
import type { Session } from './session.js';
import { synthVoice } from './voice.js';

/** The faults `inject` understands. */
export type Fault =
  | 'drop'
  | 'malformed-json'
  | 'unknown-event'
  | 'missing-fields'
  | 'wrong-types'
  | 'bad-base64-delta'
  | 'odd-pcm-delta'
  | 'stale-delta'
  | 'done-without-created'
  | 'duplicate-call-id'
  | 'non-json-arguments'
  | { largeFrameBytes: number }
  /** Arbitrary text, sent as one frame exactly as given. */
  | { raw: string };

/** Apply one fault to one session. */
export function injectFault(session: Session, fault: Fault): void {
  const current = session.conversation.current();
  const responseId = current?.id ?? newId('resp');
  const itemId = newId('item');
  if (typeof fault === 'object') {
    if ('raw' in fault) session.sendText(fault.raw);
    else largeFrame(session, fault.largeFrameBytes);
    return;
  }
  switch (fault) {
    case 'drop':
      session.drop();
      return;
    case 'malformed-json':
      session.sendText('{"type":"response.output_audio.delta","event_id":"sv_0000000000000000","delta":"AAAA');
      return;
    case 'unknown-event':
      session.sendText(JSON.stringify({ type: 'response.future_thing.delta', event_id: frames.newEventId(), payload: { note: 'an event type this client has never seen' } }));
      return;
    case 'missing-fields':
      session.sendText(JSON.stringify({ type: 'response.output_audio.delta', event_id: frames.newEventId() }));
      return;
    case 'wrong-types':
      session.sendText(JSON.stringify({ type: 'response.created', event_id: frames.newEventId(), response: { id: 42, status: ['in_progress'] } }));
      return;
    case 'bad-base64-delta':
      session.sendText(JSON.stringify({ ...frames.audioDelta(responseId, itemId, Buffer.alloc(0)), delta: '***not base64***' }));
      return;
    case 'odd-pcm-delta':
      session.send(frames.audioDelta(responseId, itemId, Buffer.from([1, 2, 3])));
      return;
    case 'stale-delta':
      // a late delta of a response that is no longer current (§3.5: clients drop it by response_id)
      session.send(frames.audioDelta(newId('resp'), itemId, synthVoice(40, session.conversation.outputRate(), 7)));
      return;
    case 'done-without-created':
      session.send(frames.responseDone(newId('resp'), { status: 'completed' }, [], { input: 1, output: 1 }));
      return;
    case 'duplicate-call-id': {
      const callId = newId('call');
      const [first = 'get_weather', second = first] = session.conversation.toolNames();
      session.conversation.startResponse({
        kind: 'tools',
        inputTokens: 10,
        calls: [
          { name: first, arguments: '{"city":"Paris"}', callId },
          { name: second, arguments: '{"city":"Oslo"}', callId },
        ],
      });
      return;
    }
    case 'non-json-arguments': {
      const [name = 'get_weather'] = session.conversation.toolNames();
      session.conversation.startResponse({ kind: 'tools', inputTokens: 10, calls: [{ name, arguments: '{city: Paris' }] });
      return;
    }
    default:
      fault satisfies never;
  }
}

/** A valid response whose single audio delta frame is about `bytes` long. */
function largeFrame(session: Session, bytes: number): void {
  const rate = session.conversation.outputRate();
  const durationMs = (Math.max(2, Math.floor((bytes * 3) / 4)) / 2 / rate) * 1000;
  session.conversation.startResponse({ kind: 'audio', pcm: synthVoice(durationMs, rate, 3), inputTokens: 1, chunkMs: durationMs + 1 });
}
