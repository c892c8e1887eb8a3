/** Sample-rate conversion with Speex's windowed-sinc resampler (WASM): proper low-pass, no aliasing. */
import { createRequire } from 'node:module';

// The package is CommonJS with its class on `default`; load it the way Node sees it. Its Emscripten
// runtime installs process-wide 'uncaughtException' (rethrow: Node dies with exit 7) and
// 'unhandledRejection' (abort) handlers at load; they would override the CLI's own clean crash path,
// so they are removed again.
const SpeexResampler = withoutProcessHandlers(
  () => (createRequire(import.meta.url)('speex-resampler') as typeof import('speex-resampler')).default,
);

function withoutProcessHandlers<T>(load: () => T): T {
  const events: string[] = ['uncaughtException', 'unhandledRejection'];
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  try {
    return load();
  } finally {
    for (const event of events) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)!.has(listener)) emitter.off(event, listener as (...args: unknown[]) => void);
      }
    }
  }
}

export type Resampler = { process(pcm: Buffer): Buffer; flush(): Buffer };

/** Quality 5: transparent for speech, far below a millisecond per 20 ms frame. */
const QUALITY = 5;

/** A PCM16 mono resampler from `inRate` to `outRate`; identity when they match. */
export async function createResampler(inRate: number, outRate: number): Promise<Resampler> {
  if (inRate === outRate) return { process: (pcm) => pcm, flush: () => Buffer.alloc(0) };
  await SpeexResampler.initPromise;
  const resampler = new SpeexResampler(1, inRate, outRate, QUALITY);
  let odd: Buffer | null = null;
  return {
    process(pcm) {
      // Keep whole samples: an odd byte waits for the next chunk.
      let data = odd ? Buffer.concat([odd, pcm]) : pcm;
      odd = null;
      if (data.length % 2 === 1) {
        odd = Buffer.from(data.subarray(data.length - 1));
        data = data.subarray(0, data.length - 1);
      }
      return data.length === 0 ? Buffer.alloc(0) : resampler.processChunk(data);
    },
    flush() {
      // Push the filter's delay line out with silence (~ its latency).
      const tail = resampler.processChunk(Buffer.alloc(Math.ceil(inRate / 100) * 2));
      return tail;
    },
  };
}

/** Resample a whole buffer in one go. */
export async function resampleAll(pcm: Buffer, inRate: number, outRate: number): Promise<Buffer> {
  if (inRate === outRate) return pcm;
  const resampler = await createResampler(inRate, outRate);
  const body = resampler.process(pcm);
  const expected = Math.round((pcm.length / 2) * (outRate / inRate)) * 2;
  const all = Buffer.concat([body, resampler.flush()]);
  return all.subarray(0, Math.min(all.length, expected));
}
