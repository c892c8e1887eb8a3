/**
 * HYDRA_CHAT_ECHO_TRACE (src/audio/echo/trace.ts): a traced canceller behaves as the bare one, and its
 * trace replayed into a fresh canceller gives the same output (what the recorded-reply fixtures rely on).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEchoCanceller } from '../src/audio/echo/canceller.js';
import { traceCanceller } from '../src/audio/echo/trace.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A far end of noise bursts at 24 kHz and a mic hearing it 60 ms later at −6 dB. */
function session(): { kind: 'p' | 'm'; at: number; pcm: Buffer }[] {
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff - 0.5) * 16000;
  const far = Float64Array.from({ length: 24 * 3000 }, (_, i) => (Math.floor(i / 12000) % 2 === 0 ? noise() : 0));
  const events: { kind: 'p' | 'm'; at: number; pcm: Buffer }[] = [];
  for (let t = 0; t < 3000; t += 20) {
    const chunk = Buffer.alloc(960);
    for (let i = 0; i < 480; i += 1) chunk.writeInt16LE(Math.round(far[t * 24 + i]!), i * 2);
    events.push({ kind: 'p', at: 1000 + t, pcm: chunk });
    const frame = Buffer.alloc(640);
    for (let i = 0; i < 320; i += 1) frame.writeInt16LE(Math.round(0.5 * (far[Math.round((t - 60 + i / 16) * 24)] ?? 0)), i * 2);
    events.push({ kind: 'm', at: 1000 + t + 20, pcm: frame });
  }
  return events;
}

describe('echo trace', () => {
  it('changes nothing, and replays to the very same output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'echo-trace-'));
    dirs.push(dir);
    const file = join(dir, 'trace.jsonl');
    const bare = createEchoCanceller();
    const traced = traceCanceller(createEchoCanceller(), file);
    const outs: Buffer[] = [];
    for (const e of session()) {
      if (e.kind === 'p') {
        bare.playback(e.pcm, e.at, 24000);
        traced.playback(e.pcm, e.at, 24000);
      } else {
        const out = traced.process(e.pcm, e.at);
        expect(out.equals(bare.process(e.pcm, e.at))).toBe(true);
        outs.push(out);
      }
    }
    expect(traced.stats()).toEqual(bare.stats());
    expect(traced.stats().erleDb).toBeGreaterThan(10);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { k: string; at: number; rate?: number; pcm: string });
    expect(lines).toHaveLength(session().length);
    const again = createEchoCanceller();
    const replayed = lines.flatMap((line) => {
      const pcm = Buffer.from(line.pcm, 'base64');
      if (line.k === 'p') return again.playback(pcm, line.at, line.rate!), [];
      return [again.process(pcm, line.at)];
    });
    expect(replayed.every((out, i) => out.equals(outs[i]!))).toBe(true);
  });

  it('a file it cannot write is one clear usage error', () => {
    expect(() => traceCanceller(createEchoCanceller(), '/nonexistent-dir/trace.jsonl')).toThrow(/^HYDRA_CHAT_ECHO_TRACE: cannot write \/nonexistent-dir\/trace.jsonl \(ENOENT\)$/);
  });
});
