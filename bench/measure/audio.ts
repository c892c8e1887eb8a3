/**
 * The figures that need real PortAudio streams on the virtual sound card (bench/lib/env.ts):
 * device click round trip (§3's physical floor), mic→wire with a real microphone (§1), wire→speaker
 * (§2) and barge-in (§3), for hydra-chat and the baseline.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { listDevices, resolveDevice, type DeviceInfo } from '../../dist/src/audio/devices.js';
import { openMicrophone } from '../../dist/src/audio/microphone.js';
import { openSpeaker, type Speaker } from '../../dist/src/audio/speaker.js';
import { openBaselineMic, openBaselineSpeaker, type BaselineSpeaker } from '../baseline-client.js';
import { firstAfter, firstDeltas, recorder, runBaseline, runOurs, type Recorder } from '../lib/clients.js';
import { BUILD_DIR, ROOT } from '../lib/env.js';
import { Monitor, sleep } from '../lib/monitor.js';
import { click, scriptedSource, silence, steadyVoice, wavFile } from '../lib/sources.js';
import { waitFor } from './turns.js';

const exec = promisify(execFile);

export type Devices = { input: DeviceInfo; output: DeviceInfo };

export async function devices(): Promise<Devices> {
  const list = await listDevices();
  return { input: resolveDevice(list, undefined, 'in'), output: resolveDevice(list, undefined, 'out') };
}

/** Write a click into an idle stream, find it in the monitor: write → audible, and write → handed. */
export async function clickRoundTrip(
  monitor: Monitor,
  write: (pcm: Buffer) => void,
  handed: { at: number }[],
  reps: number,
): Promise<{ rttMs: number[]; handedMs: number[] }> {
  const rttMs: number[] = [];
  const handedMs: number[] = [];
  await sleep(300);
  for (let i = 0; i < reps; i += 1) {
    const t = performance.now();
    write(click());
    const onset = await monitor.waitFor(() => monitor.onset(t - 2, 3000), 2000);
    if (onset >= 0) rttMs.push(monitor.timeOf(onset) - t);
    const h = firstAfter(handed, t);
    if (h) handedMs.push(h.at - t);
    await sleep(200);
  }
  return { rttMs, handedMs };
}

export type ClickTimes = { rttMs: number[]; handedMs: number[]; idleRttMs?: number[] };

/**
 * Ours: clicks into the idle speaker (write → handed, and write → heard from a stream at rest, which
 * hydra-chat lets run dry), then the device floor a flush (3d) is measured against: a stream playing
 * with its buffers full (a quiet bed, ±200, below the click threshold, kept 300 ms ahead), where each
 * click is written right after a flush() — as the first audio after a barge-in would be. Baseline:
 * idle clicks, as its stream runs dry between replies.
 */
export async function clickRoundTrips(monitor: Monitor, dev: Devices, reps: number): Promise<{ ours: ClickTimes; baseline: ClickTimes }> {
  const played: { at: number }[] = [];
  const speaker = await openSpeaker(dev.output, 48000);
  speaker.onPlayed = (_pcm, at) => played.push({ at });
  const idle = await clickRoundTrip(monitor, (pcm) => speaker.write(pcm), played, reps);
  const bed = Buffer.alloc(1920);
  for (let i = 0; i < 960; i += 1) bed.writeInt16LE(i % 2 ? 200 : -200, i * 2);
  for (let i = 0; i < 15; i += 1) speaker.write(bed);
  const feeder = setInterval(() => speaker.write(bed), 20);
  const playing = await clickRoundTrip(
    monitor,
    (pcm) => {
      speaker.flush();
      speaker.write(pcm);
      for (let i = 0; i < 15; i += 1) speaker.write(bed);
    },
    [],
    reps,
  );
  clearInterval(feeder);
  await speaker.close();
  const handed: { at: number }[] = [];
  const bspk = await openBaselineSpeaker(dev.output.id, 48000);
  bspk.onHanded = (_bytes, at) => handed.push({ at });
  const baseline = await clickRoundTrip(monitor, (pcm) => bspk.write(pcm), handed, reps);
  await bspk.close();
  return { ours: { rttMs: playing.rttMs, handedMs: idle.handedMs, idleRttMs: idle.rttMs }, baseline };
}

export type WireToSpeaker = { handedMs: number[]; heardMs: number[]; dispatchMs: number[] };

/** Per response: first delta arriving → its first samples handed to the device / audible in the monitor. */
export function wireToSpeaker(rec: Recorder, monitor: Monitor): WireToSpeaker {
  const out: WireToSpeaker = { handedMs: [], heardMs: [], dispatchMs: [] };
  for (const delta of firstDeltas(rec)) {
    const write = firstAfter(rec.writes, delta.at);
    if (write) out.dispatchMs.push(write.at - delta.at);
    const played = firstAfter(rec.played, delta.at);
    if (played && played.at - delta.at < 2000) out.handedMs.push(played.at - delta.at);
    const onset = monitor.onset(delta.at, 1000);
    if (onset >= 0 && monitor.timeOf(onset) - delta.at < 2000) out.heardMs.push(monitor.timeOf(onset) - delta.at);
  }
  return out;
}

async function paplay(file: string): Promise<void> {
  await exec('paplay', ['-d', 'micfeed', file], { env: process.env });
}

export type LiveRun = { micToWire: number[]; wire: WireToSpeaker; responses: number; framesPerS: number; loopP99Ms: number; loopMaxMs: number };

/**
 * A live conversation: real microphone (speech fed with paplay into the virtual mic) and real speaker.
 * hello-16k.wav once, then short utterances; after each, the reply plays out before the next.
 */
export async function liveConversation(who: 'ours' | 'baseline', url: string, dev: Devices, monitor: Monitor, shortTurns: number): Promise<LiveRun> {
  const rec = recorder();
  const loop = monitorEventLoopDelay({ resolution: 2 });
  const shortWav = join(BUILD_DIR, 'short-voice.wav');
  writeFileSync(shortWav, wavFile(Buffer.concat([steadyVoice(500), silence(100)])));
  let stop: () => Promise<void>;
  if (who === 'ours') {
    const mic = await openMicrophone(dev.input, { frameMs: 20 });
    const run = runOurs({ url, source: mic, openSink: (rate) => openSpeaker(dev.output, rate), rec });
    stop = () => run.stop();
  } else {
    const mic = await openBaselineMic(dev.input.id);
    const speaker = await openBaselineSpeaker(dev.output.id, 48000);
    speaker.onHanded = (bytes, at) => rec.played.push({ at, bytes });
    const run = runBaseline({ url, source: mic, sink: speaker, rec });
    stop = async () => {
      await run.stop();
      await Promise.all([mic.close(), speaker.close()]);
    };
  }
  await waitFor(() => rec.inFrames.some((f) => f.type === 'session.configured'), 8000);
  await sleep(300);
  loop.enable();
  const replies = (): number => rec.inFrames.filter((f) => f.type === 'response.done').length;
  const files = [join(ROOT, 'test/fixtures/hello-16k.wav'), ...Array.from({ length: shortTurns }, () => shortWav)];
  for (const file of files) {
    const before = replies();
    await paplay(file);
    const deltas = firstDeltas(rec).length;
    await waitFor(() => replies() > before && firstDeltas(rec).length > deltas, 5000);
    // Let the reply play out (it arrived at 20× real time): find it in the monitor, then its end.
    const first = firstDeltas(rec).at(-1);
    if (!first) continue;
    const onset = await monitor.waitFor(() => monitor.onset(first.at, 1000), 2000);
    if (onset >= 0) await monitor.waitFor(() => monitor.silenceAfter(monitor.timeOf(onset), 300, 150), 5000);
  }
  loop.disable();
  await stop();
  const sent = rec.sent.slice(10);
  const framesPerS = sent.length > 1 ? ((sent.length - 1) * 1000) / (sent.at(-1)!.sentAt - sent[0]!.sentAt) : 0;
  return { micToWire: sent.map((s) => s.sentAt - s.capturedAt), wire: wireToSpeaker(rec, monitor), responses: replies(), framesPerS, loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6 };
}

export type BargeIn = {
  /** speech_started arriving → sink.flush() called. */
  dispatchMs: number[];
  /** Audio handed to PortAudio after flush() (ours: residueAfterFlushMs). */
  residueMs: number[];
  /** flush() → the speaker monitor goes silent. */
  flushToSilenceMs: number[];
  /** speech_started arriving → silent (issue §3's figure). */
  startedToSilenceMs: number[];
  /** Reply audio queued at the moment of flush (ms). */
  queuedMs: number[];
  /** Dropouts (quiet ≥ 10 ms) inside the continuous reply before the flush, and the audio they were found in (ms). */
  dropouts: number[];
  checkedMs: number;
  wire: WireToSpeaker;
};

/**
 * Barge-in with ~9–10 s of reply queued: a 10.5 s utterance is sent at 20× real time, its echo arrives at
 * 20× and plays for `playMs`, then 200 ms of voice (a turn too short to be answered) makes the simulator
 * send speech_started; the client flushes. Repeated `reps` times on one session.
 */
export async function bargeIn(who: 'ours' | 'baseline', url: string, dev: Devices, monitor: Monitor, reps: number, playMs = 600): Promise<BargeIn> {
  const rec = recorder();
  const script = scriptedSource(20);
  let speaker: Speaker | null = null;
  let bspk: BaselineSpeaker | null = null;
  let stop: () => Promise<void>;
  if (who === 'ours') {
    const run = runOurs({
      url,
      source: script.source,
      openSink: async (rate) => (speaker = await openSpeaker(dev.output, rate)),
      rec,
    });
    stop = () => run.stop();
  } else {
    bspk = await openBaselineSpeaker(dev.output.id, 48000);
    bspk.onHanded = (bytes, at) => rec.played.push({ at, bytes });
    const run = runBaseline({ url, source: script.push, sink: bspk, rec });
    stop = async () => {
      await run.stop();
      await bspk!.close();
    };
  }
  await waitFor(() => rec.inFrames.some((f) => f.type === 'session.configured'), 8000);
  await sleep(200);
  const result: BargeIn = { dispatchMs: [], residueMs: [], flushToSilenceMs: [], startedToSilenceMs: [], queuedMs: [], dropouts: [], checkedMs: 0, wire: { handedMs: [], heardMs: [], dispatchMs: [] } };
  const long = Buffer.concat([steadyVoice(10_500), silence(700)]);
  const barge = Buffer.concat([steadyVoice(200), silence(700)]);
  for (let i = 0; i < reps; i += 1) {
    const deltasBefore = firstDeltas(rec).length;
    await script.say(long, 40);
    if (!(await waitFor(() => firstDeltas(rec).length > deltasBefore, 5000))) continue;
    const firstDelta = firstDeltas(rec).at(-1)!;
    await waitFor(() => rec.inFrames.some((f) => f.type === 'response.done' && f.at > firstDelta.at), 5000);
    const firstPlayed = firstAfter(rec.played, firstDelta.at);
    await sleep(playMs);
    const startedBefore = rec.inFrames.filter((f) => f.type === 'input_audio_buffer.speech_started').length;
    const flushesBefore = rec.flushes.length;
    await script.say(barge, 20);
    await waitFor(() => rec.flushes.length > flushesBefore, 3000);
    const started = rec.inFrames.filter((f) => f.type === 'input_audio_buffer.speech_started')[startedBefore];
    const flush = rec.flushes[flushesBefore];
    if (!started || !flush) continue;
    result.dispatchMs.push(flush.at - started.at);
    // Queued at flush: reply received minus what had been played by then.
    const replyBytes = rec.writes.filter((w) => w.at >= firstDelta.at && w.at <= flush.at).reduce((s, w) => s + w.bytes, 0);
    const playedMs = firstPlayed ? flush.at - firstPlayed.at : 0;
    result.queuedMs.push(replyBytes / 96 - playedMs);
    // Silent = followed by 300 ms of quiet (the next reply is ≥ 800 ms away; short dropouts do not count).
    const silent = await monitor.waitFor(() => monitor.silenceAfter(flush.at, 300, 300), who === 'ours' ? 3000 : 13_000);
    const heard = monitor.onset(firstDelta.at, 1000);
    if (heard >= 0) {
      const until = monitor.sampleAt(flush.at);
      result.dropouts.push(...monitor.gaps(heard, until, 10));
      result.checkedMs += Math.max(0, (until - heard) / 48);
    }
    if (silent >= 0) {
      result.flushToSilenceMs.push(monitor.timeOf(silent) - flush.at);
      result.startedToSilenceMs.push(monitor.timeOf(silent) - started.at);
    }
    if (speaker) result.residueMs.push((speaker as Speaker).residueAfterFlushMs());
    await sleep(200);
  }
  script.stop();
  await stop();
  result.wire = wireToSpeaker(rec, monitor);
  return result;
}
