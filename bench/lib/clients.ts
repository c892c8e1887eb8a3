/**
 * Runs hydra-chat's shell (startChat, from dist: the code that ships) and the baseline with the same
 * recorder, every time on this process's performance.now() clock.
 */
import { performance } from 'node:perf_hooks';
import type { AudioSink, AudioSource } from '../../dist/src/audio/types.js';
import { startChat, type Chat, type ToolRunner } from '../../dist/src/chat.js';
import { startBaseline, type Baseline, type BaselineSink, type BaselineSource } from '../baseline-client.js';

export type Recorder = {
  inFrames: { type: string; at: number; frame: Record<string, unknown> }[];
  outFrames: { type: string; at: number }[];
  sent: { capturedAt: number; sentAt: number }[];
  writes: { at: number; bytes: number }[];
  flushes: { at: number }[];
  /** Audio handed to the device (ours: onPlayed; baseline: accepted into the addon's queue). */
  played: { at: number; bytes: number }[];
  handlerMs: number[];
};

export function recorder(): Recorder {
  return { inFrames: [], outFrames: [], sent: [], writes: [], flushes: [], played: [], handlerMs: [] };
}

export const WEATHER_TOOL = { type: 'function' as const, name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };

/** The tool handler both clients run: trivial synchronous work, timed. */
export function weatherHandler(rec: Recorder): (args: string) => string {
  return (args) => {
    const t0 = performance.now();
    const parsed = JSON.parse(args) as { city?: string };
    const output = JSON.stringify({ city: parsed.city ?? '?', temp_c: 12, sky: 'clear' });
    rec.handlerMs.push(performance.now() - t0);
    return output;
  };
}

export type OursRun = { chat: Chat; sink(): AudioSink | null; stop(): Promise<void> };

export function runOurs(options: {
  url: string;
  source: AudioSource;
  openSink: (rate: number) => Promise<AudioSink>;
  rec: Recorder;
  tools?: boolean;
  greet?: boolean;
}): OursRun {
  const { rec } = options;
  const controller = new AbortController();
  const handler = weatherHandler(rec);
  const tools: ToolRunner | undefined = options.tools
    ? {
        declarations: () => [WEATHER_TOOL],
        run: async (_name, args) => {
          const t0 = performance.now();
          const output = handler(args);
          return { ok: true, output, durationMs: performance.now() - t0 };
        },
      }
    : undefined;
  let sink: AudioSink | null = null;
  const base = performance.now();
  const chat = startChat({
    url: options.url,
    model: 'hydra',
    apiKey: 'bench-key',
    session: { voice: 'wren', generate_initial_response: options.greet ?? false },
    source: options.source,
    openSink: async (rate) => {
      const opened = await options.openSink(rate);
      const write = opened.write.bind(opened);
      const flush = opened.flush.bind(opened);
      opened.write = (pcm: Buffer) => {
        rec.writes.push({ at: performance.now(), bytes: pcm.length });
        write(pcm);
      };
      opened.flush = () => {
        rec.flushes.push({ at: performance.now() });
        return flush();
      };
      const tap = opened.onPlayed;
      opened.onPlayed = (pcm, at, rate2) => {
        rec.played.push({ at, bytes: pcm.length });
        tap?.(pcm, at, rate2);
      };
      sink = opened;
      return opened;
    },
    ...(tools ? { tools } : {}),
    onSentFrame: (_pcm, capturedAt, sentAt) => rec.sent.push({ capturedAt, sentAt }),
    observe: (event) => {
      if (event.type !== 'frame') return;
      // `at` is relative to the shell's start, which is `base` to within microseconds.
      const type = String(event.frame.type);
      if (event.direction === 'in') rec.inFrames.push({ type, at: base + event.at, frame: event.frame });
      else rec.outFrames.push({ type, at: base + event.at });
    },
    signal: controller.signal,
    maxRetries: 0,
  });
  return {
    chat,
    sink: () => sink,
    async stop() {
      controller.abort();
      await chat.done;
    },
  };
}

export type BaselineRun = { client: Baseline; stop(): Promise<void> };

export function runBaseline(options: { url: string; source: BaselineSource; sink: BaselineSink | null; rec: Recorder; tools?: boolean; greet?: boolean }): BaselineRun {
  const { rec } = options;
  const sink: BaselineSink | null = options.sink
    ? {
        write: (pcm) => {
          rec.writes.push({ at: performance.now(), bytes: pcm.length });
          options.sink!.write(pcm);
        },
        flush: () => {
          rec.flushes.push({ at: performance.now() });
          options.sink!.flush();
        },
        close: () => options.sink!.close(),
      }
    : null;
  const client = startBaseline({
    url: options.url,
    session: { generate_initial_response: options.greet ?? false, ...(options.tools ? { tools: [WEATHER_TOOL] } : {}) },
    source: options.source,
    sink,
    ...(options.tools ? { tools: { get_weather: weatherHandler(rec) } } : {}),
    onSentFrame: (_pcm, capturedAt, sentAt) => rec.sent.push({ capturedAt, sentAt }),
    observe: (frame) => {
      if (frame.dir === 'in') rec.inFrames.push({ type: frame.type, at: frame.at, frame: frame.frame });
      else rec.outFrames.push({ type: frame.type, at: frame.at });
    },
  });
  return {
    client,
    async stop() {
      client.close();
      await Promise.race([client.done, new Promise((resolve) => setTimeout(resolve, 2000))]);
    },
  };
}

/** First `response.output_audio.delta` of each response (by response_id), in arrival order. */
export function firstDeltas(rec: Recorder): { responseId: string; at: number }[] {
  const seen = new Set<string>();
  const out: { responseId: string; at: number }[] = [];
  for (const frame of rec.inFrames) {
    if (frame.type !== 'response.output_audio.delta') continue;
    const id = String(frame.frame.response_id);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ responseId: id, at: frame.at });
  }
  return out;
}

/** The first event in `events` at or after `at`. */
export function firstAfter<T extends { at: number }>(events: readonly T[], at: number): T | undefined {
  return events.find((event) => event.at >= at);
}
