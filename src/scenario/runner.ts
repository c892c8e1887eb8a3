/**
 * Runs a prepared scenario once: one session, the scripted microphone speaking turn by turn as the
 * timing asks (after the previous reply finished playing, or barging in after N ms of it), a clock
 * sink standing in for the speaker, and the run folder written as it goes (transcript.jsonl,
 * conversation.wav). Ends the chat after the last turn's reply (the shell closes with 1000).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClockSink } from '../audio/clock-sink.js';
import { msForBytes } from '../audio/pcm.js';
import { ConversationRecorder } from '../audio/recorder.js';
import type { AudioSink } from '../audio/types.js';
import { startChat, type Chat, type ChatOutcome } from '../chat.js';
import { DEFAULTS } from '../defaults.js';
import { isQuiet } from '../session.js';
import type { PreparedScenario } from './prepare.js';
import { createScriptedSource, type Utterance } from './source.js';
import { TurnTracker, type ErrorRecord, type TurnRecord } from './tracker.js';
import { TranscriptWriter } from './transcript.js';
import { Waiter } from './waiter.js';

/** How a script is paced, and how long a reply is waited for unless the scenario says (`replyTimeoutMs`). */
const PACING = {
  /** A natural pause between the end of a reply and the next question. */
  gapMs: 300,
  /** Silence before the first turn when nothing comes before it. */
  leadMs: 300,
  replyTimeoutMs: 15_000,
} as const;

export type RunRecord = {
  run: number;
  dir: string;
  sessionId: string;
  /** completed: the script ran to its end; otherwise why it stopped early. */
  ended: 'completed' | 'error' | 'server-closed' | 'interrupted';
  error?: ErrorRecord;
  durationMs: number;
  /** The session opening (greeting) and then one record per scenario turn. */
  opening: TurnRecord;
  turns: TurnRecord[];
  errors: ErrorRecord[];
  warnings: ErrorRecord[];
  retries: { why: string; attempt: number; message: string }[];
};

export type RunOnceOptions = {
  run: number;
  dir: string;
  url: string;
  apiKey: string;
  signal: AbortSignal;
  maxRetries?: number;
  /** Called once per turn as soon as its reply is over (live progress). */
  onTurn?: (run: number, turn: TurnRecord) => void;
};

export async function runOnce(prepared: PreparedScenario, options: RunOnceOptions): Promise<RunRecord> {
  const { scenario } = prepared;
  await mkdir(options.dir, { recursive: true });
  const t0 = performance.now();
  const transcript = TranscriptWriter.open(join(options.dir, 'transcript.jsonl'), t0);
  const recorder = await ConversationRecorder.create(join(options.dir, 'conversation.wav'));
  // The recorder's first call per channel awaits its resampler: keep chunks in order.
  let recording = Promise.resolve();
  const record = (write: () => Promise<void>): void => {
    recording = recording.then(write).catch(() => undefined);
  };

  const tracker = new TurnTracker(scenario.turns.length);
  const source = createScriptedSource({ frameMs: DEFAULTS.frameMs });
  const waiter = new Waiter();
  const stop = new AbortController();
  let sink: AudioSink | null = null;
  let chat: Chat | null = null;
  const reported = new Set<number>();

  const finished = (index: number): boolean => {
    if (index < tracker.active().index) return true;
    const state = chat?.state() ?? null;
    return tracker.replyOver(index) && state !== null && isQuiet(state) && (sink === null || sink.idle());
  };
  const check = (): void => {
    for (let i = 1; i <= scenario.turns.length; i += 1) {
      const rec = tracker.record(i);
      if (!reported.has(i) && rec.spokeAtMs !== undefined && (rec.timedOut || (rec.heard > 0 && finished(i)))) {
        reported.add(i);
        options.onTurn?.(options.run, rec);
      }
    }
    waiter.check();
  };

  chat = startChat({
    url: options.url,
    model: prepared.model,
    apiKey: options.apiKey,
    session: prepared.session,
    source,
    openSink: async (rate) => {
      const clock = createClockSink(rate);
      clock.onPlayed = (pcm, at) => {
        tracker.played(msForBytes(pcm.length, rate));
        record(() => recorder.model(pcm, at, rate));
        check();
      };
      clock.onIdle(check);
      sink = clock;
      return clock;
    },
    ...(prepared.tools ? { tools: prepared.tools() } : {}),
    onSentFrame: (pcm, at) => {
      record(() => recorder.user(pcm, at));
      if (chat?.state()?.configured) transcript.sentAudio(msForBytes(pcm.length, 16000), at);
    },
    observe: (event) => {
      transcript.event(event, performance.now());
      tracker.observe(event);
      check();
    },
    signal: AbortSignal.any([options.signal, stop.signal]),
    logAudioFrames: false,
    ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
  });

  const replyTimeoutMs = scenario.replyTimeoutMs ?? PACING.replyTimeoutMs;
  const script = async (): Promise<boolean> => {
    if (!(await waiter.until(() => chat?.state()?.configured === true))) return false;
    let previous: Utterance | null = null;
    for (let k = 1; k <= scenario.turns.length; k += 1) {
      const timing = scenario.turns[k - 1]!.timing ?? {};
      const hasPrevious = k > 1 || prepared.greet;
      if (hasPrevious) {
        const prev = tracker.record(k - 1);
        if (previous && (await waiter.race(previous.ended)) === null) return false;
        const bargeIn = timing.overGreeting === true ? 0 : timing.bargeInAfterMs;
        const ok = bargeIn === undefined
          ? await waiter.until(() => finished(k - 1), replyTimeoutMs)
          : await waiter.until(() => (prev.replyMs > 0 && prev.replyMs >= bargeIn) || finished(k - 1), replyTimeoutMs);
        if (waiter.closed) return false;
        if (!ok) prev.timedOut = true;
        if (bargeIn === undefined && !(await waiter.delay(PACING.gapMs))) return false;
      } else if (!(await waiter.delay(PACING.leadMs))) {
        return false;
      }
      if (previous && !(await holdTrailingSilence(previous, scenario.turns[k - 2]!.timing?.trailingSilenceMs))) return false;
      const now = performance.now();
      tracker.speaking(k, now - t0);
      transcript.note({ event: 'scenario-turn', turn: k, speaking: true }, now);
      previous = source.speak(prepared.audio[k - 1]!);
      const rec = tracker.record(k);
      void previous.ended.then((at) => {
        rec.spokeEndMs = at - t0;
        transcript.note({ event: 'scenario-turn', turn: k, spoken: true }, at);
      });
    }
    const last = scenario.turns.length;
    if (previous && (await waiter.race(previous.ended)) === null) return false;
    if (!(await waiter.until(() => finished(last), replyTimeoutMs))) {
      if (waiter.closed) return false;
      tracker.record(last).timedOut = true;
    }
    return previous === null || (await holdTrailingSilence(previous, scenario.turns[last - 1]!.timing?.trailingSilenceMs));
  };

  const holdTrailingSilence = async (utterance: Utterance, ms: number | undefined): Promise<boolean> => {
    if (!ms) return true;
    const endedAt = await waiter.race(utterance.ended);
    return endedAt !== null && waiter.delay(endedAt + ms - performance.now());
  };

  const scripted = script().finally(() => stop.abort());
  const outcome = await chat.done;
  waiter.close();
  const completed = await scripted;
  check();
  for (let i = 1; i <= scenario.turns.length; i += 1) {
    if (!reported.has(i) && tracker.record(i).spokeAtMs !== undefined) options.onTurn?.(options.run, tracker.record(i));
  }
  transcript.note({ event: 'end', reason: outcome.reason }, performance.now());
  transcript.close();
  await recording;
  recorder.closeSync();
  return {
    run: options.run,
    dir: options.dir,
    sessionId: outcome.sessionId,
    ...endedAs(outcome, completed, options.signal.aborted),
    durationMs: performance.now() - t0,
    opening: tracker.record(0),
    turns: tracker.records.slice(1),
    errors: tracker.errors,
    warnings: tracker.warnings,
    retries: tracker.retries,
  };
}

function endedAs(outcome: ChatOutcome, completed: boolean, aborted: boolean): Pick<RunRecord, 'ended' | 'error'> {
  if (outcome.reason === 'error') return { ended: 'error', error: { code: outcome.error.code, message: outcome.error.message } };
  if (completed) return { ended: 'completed' };
  if (aborted) return { ended: 'interrupted' };
  if (outcome.reason === 'server-closed') return { ended: 'server-closed' };
  return { ended: 'interrupted' };
}
