/**
 * Issue 14 item 2: the reducer's frames carry no event id; the connection stamps one on each frame
 * as it is sent (§6.4: server errors point back at it), audio excepted. Checked on the wire, against
 * the real simulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatEvent } from '../src/chat.js';
import { createSimulator, type Simulator } from '../src/mock/server.js';
import { appendAudio, encode, encodeAppend, responseCreate, stampEventId, toolOutput } from '../src/protocol.js';
import { isNote, Log, silence, simLog, tone } from './fixtures/faults/harness.js';
import { startEngine } from './support/engine.js';

const simulators: Simulator[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((sim) => sim.close()));
});

describe('encode', () => {
  it('writes audio frames directly, byte for byte what JSON.stringify would write; anything unusual goes through JSON.stringify', () => {
    for (const bytes of [0, 2, 640, 1921]) {
      const frame = appendAudio(Buffer.alloc(bytes, 0xfb));
      expect(encode(frame)).toBe(JSON.stringify(frame));
    }
    const odd = { type: 'input_audio_buffer.append', audio: 'a"b\\c\n' };
    expect(JSON.parse(encode(odd))).toEqual(odd);
    const withId = { type: 'input_audio_buffer.append', audio: 'AAAA', event_id: 'e1' };
    expect(JSON.parse(encode(withId))).toEqual(withId);
  });

  it('encodeAppend: the bytes of encode(appendAudio(pcm)), for every length and content', () => {
    for (const bytes of [0, 1, 2, 3, 640, 641, 1920, 1921]) {
      const pcm = Buffer.from(Array.from({ length: bytes }, (_, i) => (i * 37 + 11) & 0xff));
      expect(encodeAppend(pcm).toString('utf8')).toBe(encode(appendAudio(pcm)));
    }
  });
});

describe('event ids', () => {
  it('stampEventId numbers frames, leaves audio and frames that already have an id alone', () => {
    expect(stampEventId(responseCreate(), 1)).toEqual({ type: 'response.create', event_id: 'evt_000000000001' });
    expect(stampEventId(toolOutput('c', '1'), 0x2a)).toMatchObject({ event_id: 'evt_00000000002a' });
    expect(stampEventId({ type: 'response.create', event_id: 'mine' }, 5)).toEqual({ type: 'response.create', event_id: 'mine' });
    const audio = { type: 'input_audio_buffer.append', audio: 'AAAA' } as const;
    expect(stampEventId(audio, 9)).toBe(audio);
  });

  it('on the wire: every frame but audio has an event id, unique within the session', async () => {
    const sim = await createSimulator({ responseDelayMs: 20, realtimeFactor: 20, rules: [{ turn: 1, calls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] }] });
    simulators.push(sim);
    const log = simLog(sim);
    const events = new Log<ChatEvent>();
    const { chat, source, quit } = startEngine(sim, { run: async () => ({ ok: true, output: '{"temp_c":3}', durationMs: 0 }), observe: events.push, timeoutMs: 20_000 });
    await events.waitFor(isNote('configured'), 'configured');
    void source.say(Buffer.concat([tone(500), silence(800)]));
    await events.waitFor((e) => e.type === 'metric', 'the narrated reply');
    quit();
    await chat.done;
    const sent = log.frames.items.filter((f) => f.dir === 'in').map((f) => f.frame);
    const withIds = sent.filter((frame) => frame.type !== 'input_audio_buffer.append');
    expect(withIds.map((frame) => frame.type)).toEqual(expect.arrayContaining(['session.configure', 'conversation.item.create', 'response.create']));
    expect(withIds.every((frame) => typeof frame.event_id === 'string' && /^evt_[0-9a-f]{12}$/.test(frame.event_id))).toBe(true);
    expect(new Set(withIds.map((frame) => frame.event_id)).size).toBe(withIds.length);
    expect(sent.filter((frame) => frame.type === 'input_audio_buffer.append').every((frame) => frame.event_id === undefined)).toBe(true);
  });
});
