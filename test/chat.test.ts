/**
 * The real client against the real simulator over a real socket. Audio comes from WAV fixtures
 * paced at real time; the reply goes to a clock sink (plays at real time, no device).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClockSink } from '../src/audio/clock-sink.js';
import { pcmSource } from '../src/audio/file-source.js';
import { readWav, readWavMono16k } from '../src/audio/wav.js';
import { fanOut, runStages } from '../src/audio/pipeline/stage.js';
import { echoCancelStage, meterStage, muteStage, tapStage } from '../src/audio/pipeline/stages.js';
import type { AudioSource } from '../src/audio/types.js';
import { runChat, startChat, type ChatEvent, type ChatOptions, type ToolRunner } from '../src/chat.js';
import { FileInput } from '../src/input-replay.js';
import { createOutput } from '../src/ui/output.js';
import { voiceFallback, voiceLine } from '../src/voice-fallback.js';
import { createView, type KeyInput } from '../src/ui/view.js';
import { silence } from './fixtures/faults/harness.js';
import { createSimulator, type Simulator, type SimulatorOptions } from '../src/mock/server.js';
import type { ClientEvent } from '../src/protocol.js';

let hello: Buffer;
let dir: string;
const simulators: Simulator[] = [];

beforeAll(async () => {
  hello = await readWavMono16k('test/fixtures/hello-16k.wav');
  dir = await mkdtemp(join(tmpdir(), 'hydra-chat-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((sim) => sim.close()));
});

async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await createSimulator({ responseDelayMs: 50, ...options });
  simulators.push(sim);
  return sim;
}


/** A chat over PCM already in memory that ends by itself once the reply has played. */
function chatOver(sim: Simulator, pcm: Buffer, extra: Partial<ChatOptions> = {}) {
  const events: ChatEvent[] = [];
  const source = pcmSource(pcm, { frameMs: 20 });
  const controller = new AbortController();
  const done = runChat({
    url: sim.url,
    model: 'hydra',
    apiKey: 'test-key',
    session: { voice: 'wren', generate_initial_response: false },
    source,
    openSink: async (rate) => createClockSink(rate),
    endAfterInput: { inputEnded: source.ended, trailingSilenceMs: 1200 },
    observe: (event) => events.push(event),
    signal: AbortSignal.any([controller.signal, AbortSignal.timeout(20_000)]),
    maxRetries: 4,
    ...extra,
  });
  return { events, done, controller };
}

function clientFrames(sim: Simulator): ClientEvent[] {
  const frames: ClientEvent[] = [];
  sim.on('client-frame', (_id, event) => frames.push(event));
  return frames;
}

const notes = (events: ChatEvent[]) => events.flatMap((e) => (e.type === 'note' ? [e.note] : []));

describe('chat against the simulator', () => {
  it('plays a greeting, sends exactly one session.configure and closes with 1000', async () => {
    const sim = await simulator();
    const frames = clientFrames(sim);
    const closed = new Promise<number>((resolve) => sim.on('session-closed', (_id, code) => resolve(code)));
    const output = join(dir, 'greeting.wav');
    const { done, events } = chatOver(sim, silence(200), { session: { voice: 'reed', generate_initial_response: true }, outputPath: output });
    const outcome = await done;
    expect(outcome.reason).toBe('input-finished');
    expect(frames.filter((f) => f.type === 'session.configure')).toHaveLength(1);
    expect(frames.find((f) => f.type === 'session.configure')).toMatchObject({ session: { voice: 'reed', generate_initial_response: true } });
    expect(notes(events).some((n) => n.kind === 'response-done' && n.status === 'completed')).toBe(true);
    expect(await closed).toBe(1000);
    const wav = await readWav(output);
    expect(wav.sampleRate).toBe(48000);
    expect(wav.pcm.length).toBeGreaterThan(48000); // more than half a second of greeting
  });

  it('answers an ordinary turn from a speech WAV and reports V2V', async () => {
    const sim = await simulator();
    const output = join(dir, 'turn.wav');
    const { done, events } = chatOver(sim, Buffer.concat([silence(300), hello]), { outputPath: output });
    expect((await done).reason).toBe('input-finished');
    const metrics = events.flatMap((e) => (e.type === 'metric' ? [e.metric] : []));
    expect(metrics).toHaveLength(1);
    expect(metrics[0]!.kind).toBe('plain');
    expect(metrics[0]!.v2vMs).toBeGreaterThanOrEqual(40);
    const wav = await readWav(output);
    expect(wav.sampleRate).toBe(48000);
    // The simulator echoes the utterance: the reply is about as long as what we said.
    const replyMs = (wav.pcm.length / 2 / 48000) * 1000;
    expect(replyMs).toBeGreaterThan(((hello.length / 2 / 16000) * 1000) / 2);
  });

  it('logFrames false: no frame events at all (nothing describes frames), the rest as usual', async () => {
    const sim = await simulator({ realtimeFactor: 20 });
    const { done, events } = chatOver(sim, Buffer.concat([silence(200), hello]), { logFrames: false, logAudioFrames: true });
    expect((await done).reason).toBe('input-finished');
    expect(events.filter((e) => e.type === 'frame')).toEqual([]);
    expect(events.filter((e) => e.type === 'metric')).toHaveLength(1);
    expect(notes(events).some((n) => n.kind === 'response-done')).toBe(true);
  });

  it('barge-in flushes the queued reply and drops late deltas of the old response', async () => {
    // Real-time delivery keeps the reply streaming while the user talks over it.
    const sim = await simulator({ realtimeFactor: 1 });
    const pcm = Buffer.concat([silence(200), hello, silence(900), hello]);
    const { done, events } = chatOver(sim, pcm);
    expect((await done).reason).toBe('input-finished');
    const played = events.flatMap((e) => (e.type === 'played' ? [e] : []));
    expect(played.some((p) => p.reason === 'speech-started')).toBe(true);
    expect(notes(events).some((n) => n.kind === 'interrupted' && n.by === 'user')).toBe(true);
    expect(notes(events).some((n) => n.kind === 'response-done' && n.status === 'cancelled')).toBe(true);
  });

  it('runs two parallel tool calls and sends one response.create for the turn', async () => {
    const sim = await simulator({
      rules: [{ turn: 1, calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'lookup_order', arguments: { order_id: 'A17' } }] }],
    });
    const frames = clientFrames(sim);
    const ran: string[] = [];
    const tools: ToolRunner = {
      declarations: () => [
        { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
        { type: 'function', name: 'lookup_order', parameters: { type: 'object', properties: { order_id: { type: 'string' } } } },
      ],
      run: async (name, args) => {
        ran.push(`${name} ${args}`);
        if (name === 'lookup_order') throw new Error('database down');
        return { ok: true, output: JSON.stringify({ temp_c: 12 }), durationMs: 1 };
      },
    };
    const { done, events } = chatOver(sim, Buffer.concat([silence(200), hello]), { tools });
    expect((await done).reason).toBe('input-finished');
    expect(ran.sort()).toEqual(['get_weather {"city":"Paris"}', 'lookup_order {"order_id":"A17"}']);
    const outputs = frames.filter((f) => f.type === 'conversation.item.create');
    expect(outputs).toHaveLength(2);
    expect(JSON.stringify(outputs)).toContain('database down');
    expect(frames.filter((f) => f.type === 'response.create')).toHaveLength(1);
    const metric = events.find((e) => e.type === 'metric');
    expect(metric?.type === 'metric' && metric.metric.kind).toBe('tool');
  });

  it('stops at once on HTTP 401 without retrying', async () => {
    const sim = await simulator({ apiKey: 'the-right-key' });
    const { done, events } = chatOver(sim, silence(100), { apiKey: 'a-wrong-key' });
    const outcome = await done;
    expect(outcome.reason === 'error' && outcome.error.code).toBe('auth-rejected');
    expect(events.filter((e) => e.type === 'connection' && e.detail.status === 'connecting')).toHaveLength(1);
  });

  it('backs off on server_full + 1013 and then succeeds', async () => {
    const sim = await simulator({ faults: { serverFullTimes: 2 } });
    const { done, events } = chatOver(sim, silence(100), { session: { generate_initial_response: true } });
    expect((await done).reason).toBe('input-finished');
    const retries = events.flatMap((e) => (e.type === 'connection' && e.detail.status === 'retrying' ? [e.detail] : []));
    expect(retries.map((r) => r.why)).toEqual(['server-full', 'server-full']);
    expect(events.some((e) => e.type === 'connection' && e.detail.status === 'connected')).toBe(true);
  });

  it('keeps the session alive across a long silence with a short idle timeout', async () => {
    const sim = await simulator({ idleTimeoutMs: 400 });
    const closes: number[] = [];
    sim.on('session-closed', (_id, code) => closes.push(code));
    const { done } = chatOver(sim, silence(1500));
    expect((await done).reason).toBe('input-finished');
    expect(closes).toEqual([1000]); // our own close at the end, not an idle close before it
  });

  it('survives malformed and unknown frames and still completes a turn', async () => {
    const sim = await simulator();
    sim.on('client-frame', (_id, event) => {
      if (event.type === 'session.configure') {
        setImmediate(() => {
          sim.inject('malformed-json');
          sim.inject('unknown-event');
          sim.inject('malformed-json');
        });
      }
    });
    const { done, events } = chatOver(sim, Buffer.concat([silence(300), hello]));
    expect((await done).reason).toBe('input-finished');
    const anomalies = notes(events).filter((n) => n.kind === 'anomaly');
    expect(anomalies.length).toBeGreaterThanOrEqual(2);
    expect(new Set(anomalies.map((n) => n.kind === 'anomaly' && n.key)).size).toBe(anomalies.length); // each shown once
    expect(events.some((e) => e.type === 'metric')).toBe(true);
  });

  it('reconnects and reconfigures after the socket drops mid-response', async () => {
    const sim = await simulator({ faults: { dropAfterDeltas: 3 } });
    const frames = clientFrames(sim);
    const { done, events } = chatOver(sim, silence(600), { session: { voice: 'reed', generate_initial_response: true } });
    expect((await done).reason).toBe('input-finished');
    expect(events.filter((e) => e.type === 'connection' && e.detail.status === 'connected')).toHaveLength(2);
    expect(frames.filter((f) => f.type === 'session.configure')).toHaveLength(2);
  });
});

describe('the shell around the session', () => {
  it('live chat (no input file): a turn with no reply is a warning after --reply-timeout, and the chat goes on', async () => {
    const sim = await simulator({ responseDelayMs: 600_000 });
    const events: ChatEvent[] = [];
    const controller = new AbortController();
    let warned!: () => void;
    const warning = new Promise<void>((resolve) => (warned = resolve));
    const chat = startChat({
      url: sim.url,
      model: 'hydra',
      apiKey: 'test-key',
      session: { generate_initial_response: false },
      source: liveLike(pcmSource(Buffer.concat([silence(200), hello]), { frameMs: 20 })),
      openSink: async (rate) => createClockSink(rate),
      replyTimeoutMs: 300,
      observe: (event) => {
        events.push(event);
        if (event.type === 'note' && event.note.kind === 'warning' && event.note.code === 'no-reply') warned();
      },
      signal: AbortSignal.any([controller.signal, AbortSignal.timeout(20_000)]),
    });
    await warning;
    expect(notes(events).find((n) => n.kind === 'warning' && n.code === 'no-reply')).toMatchObject({ message: 'no reply within 0.3 s; still listening' });
    expect(chat.state()?.configured).toBe(true); // still running
    controller.abort();
    expect((await chat.done).reason).toBe('user-quit');
  });

  it('a file input: nothing before start(), stands still while paused, and rewinds to the last answered turn', async () => {
    const pcm = Buffer.concat([silence(100), Buffer.alloc(640 * 5, 1)]);
    const source = pcmSource(pcm, { frameMs: 20 });
    const input = new FileInput(source);
    const frames: Buffer[] = [];
    let started = false;
    expect(input.configured(() => (started = true))).toBeNull();
    expect(started).toBe(true);
    await new Promise<void>((resolve) => {
      void source.start((frame) => {
        frames.push(frame.pcm);
        input.frame();
        if (frames.length === 3) {
          input.answered(); // mark after 60 ms
        }
        if (frames.length === 6) {
          input.speech();
          input.sessionEnded();
          resolve();
        }
      }, () => undefined);
    });
    const before = frames.length;
    expect(before).toBe(6); // paused: no more frames
    const back = input.configured(() => undefined);
    expect(back).toEqual({ from: 120, to: 60 });
    await new Promise<void>((resolve) => {
      const wait = (): void => void (frames.length > before ? resolve() : setImmediate(wait));
      wait();
    });
    await source.close();
    expect(frames[before]!.equals(frames[3]!)).toBe(true); // the frame after the mark comes again
  });

  it('pipeline stages run in order; mute sends silence of the same length; taps see what goes out', () => {
    const seen: number[] = [];
    let muted = true;
    const levels: number[] = [];
    const stages = [muteStage(() => muted), meterStage((db) => levels.push(db)), tapStage('tap', (frame) => seen.push(frame.pcm.readInt16LE(0)))];
    const loud = Buffer.alloc(640);
    loud.writeInt16LE(12000, 0);
    const out1 = runStages(stages, { pcm: loud, at: 1 });
    expect(out1.pcm.length).toBe(640);
    expect(out1.pcm.every((b) => b === 0)).toBe(true);
    muted = false;
    const out2 = runStages(stages, { pcm: loud, at: 2 });
    expect(out2.pcm).toBe(loud);
    expect(seen).toEqual([0, 12000]);
    expect(levels[0]).toBe(-100);
    expect(levels[1]).toBeGreaterThan(-100);
  });

  it('a canceller plugs in as one stage: its process() shapes the mic, its playback() hears what was played', () => {
    const played: number[] = [];
    const stage = echoCancelStage({ process: (pcm) => Buffer.alloc(pcm.length, 7), playback: (pcm, at, rate) => played.push(pcm.length, at, rate) });
    expect(runStages([stage], { pcm: Buffer.alloc(4, 1), at: 0 }).pcm).toEqual(Buffer.alloc(4, 7));
    fanOut([stage.playback, null])(Buffer.alloc(10), 5, 24000);
    expect(played).toEqual([10, 5, 24000]);
  });
});

describe('what the server did with the voice (pure)', () => {
  it('one line for a rejection ("any more" only for a voice that once existed), one for a silent swap, none otherwise', () => {
    expect(voiceLine('reed', true, 'sterling', 'hydra-v1.1')).toBe('voice reed is not served on hydra-v1.1 any more; using sterling — see `hydra-chat voices`');
    expect(voiceLine('nobody', true, undefined, 'hydra')).toBe("voice nobody is not served on hydra; using the server's default voice — see `hydra-chat voices`");
    expect(voiceLine('sterling', false, 'wren', 'hydra')).toBe('the server does not know voice sterling and used wren instead — see `hydra-chat voices`');
    expect(voiceLine('reed', false, 'reed', 'hydra')).toBeNull();
    expect(voiceLine('reed', false, undefined, 'hydra')).toBeNull();
    expect(voiceLine(undefined, true, 'sterling', 'hydra')).toBeNull();
    const fallback = voiceFallback({ voice: 'reed', instructions: 'x' }, 'hydra');
    expect(fallback.config()).toEqual({ voice: 'reed', instructions: 'x' });
    fallback.reject();
    expect(fallback.config()).toEqual({ instructions: 'x' });
    expect(fallback.configured('wren')).toMatch(/^voice reed is not served/);
    expect(fallback.configured('wren')).toBeNull(); // said once per run
  });
});

describe('the view quits through a control', () => {
  it('Ctrl-C in raw mode quits like q (no signal sent to ourselves); a second Ctrl-C asks to end now', () => {
    const listeners = new Set<(data: Buffer) => void>();
    const keys: KeyInput = {
      isTTY: true,
      setRawMode: () => undefined,
      on: (_event, listener) => listeners.add(listener),
      off: (_event, listener) => listeners.delete(listener),
      resume: () => undefined,
      pause: () => undefined,
    };
    const out = createOutput({ stdout: { write: () => undefined }, stderr: { write: () => undefined }, json: false, color: false, quiet: false });
    const view = createView({ out, input: keys, verbose: false, header: { model: 'hydra', voice: undefined, url: 'ws://x', tools: [], mock: true } });
    let signals = 0;
    const onSigint = (): void => void (signals += 1);
    process.on('SIGINT', onSigint);
    const calls: string[] = [];
    view.attach({ interrupt: () => undefined, toggleMute: () => false, quit: () => calls.push('quit'), quitNow: () => calls.push('now'), levels: () => ({ inputDb: -100, outputDb: -100 }) });
    try {
      for (const listener of [...listeners]) listener(Buffer.from('\u0003'));
      for (const listener of [...listeners]) listener(Buffer.from('\u0003'));
    } finally {
      view.close();
      process.off('SIGINT', onSigint);
    }
    expect(calls).toEqual(['quit', 'now']);
    expect(signals).toBe(0);
  });
});

describe('exit hooks (one registry, owned by the CLI)', () => {
  it('run once at exit, newest first; a failing hook does not stop the others; a forgotten one does not run', () => {
    const script = [
      "import { atExit } from './dist/src/exit-hooks.js';",
      "atExit(() => process.stdout.write('first\\n'));",
      "atExit(() => { throw new Error('boom'); });",
      "const forget = atExit(() => process.stdout.write('forgotten\\n'));",
      "atExit(() => process.stdout.write('last\\n'));",
      'forget();',
      'process.exit(3);',
    ].join('\n');
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.status).toBe(3);
    expect(run.stdout).toBe('last\nfirst\n');
    expect(run.stderr).toBe('');
  });
});

/** The same audio as a source that cannot rewind: how the shell treats a microphone. */
function liveLike(source: ReturnType<typeof pcmSource>): AudioSource {
  return { frameMs: source.frameMs, start: (onFrame, onError) => source.start(onFrame, onError), close: () => source.close() };
}
