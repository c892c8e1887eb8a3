/**
 * One model response on the wire (hydra-protocol §4, §5.2): created → item(s) → audio deltas or
 * tool-call argument stream → done, paced at `realtimeFactor`× real time, cancellable at any step.
 */
import type { ConversationItem, ServerEvent } from '../protocol.js';
import * as frames from './frames.js';
import { newId } from './ids.js';
import { chunkPcm } from './voice.js';

/** What the response will say: audio at the output rate, or tool calls (no audio, §10.17). */
export type ResponsePlan =
  | { kind: 'audio'; pcm: Buffer; transcript?: string; inputTokens: number; chunkMs?: number }
  | { kind: 'tools'; calls: readonly { name: string; arguments: string; callId?: string }[]; inputTokens: number };

/** What a response needs from its session. */
export type ResponseHost = {
  send(frame: ServerEvent): void;
  /** Append an item to the conversation log; returns the id of the item before it. */
  appendItem(id: string): string | undefined;
  readonly outputRate: number;
  readonly realtimeFactor: number;
  readonly thinkMs: number;
  /** Called after every audio delta (fault hook: may drop the socket). */
  onAudioDelta(response: ActiveResponse, count: number): void;
  /** A call's `…arguments.done` was just sent. */
  onCallDone(response: ActiveResponse, call: MadeCall): void;
  onEnd(response: ActiveResponse, end: frames.ResponseEnd): void;
};

/** A function call the response made, as the client must answer it. */
export type MadeCall = { callId: string; name: string; arguments: string };

const CHUNK_MS = 40;

type LoggedItem = { item: ConversationItem; previous: string | undefined; open: boolean };

/** A response in flight. `start()` once; `cancel()` or `stop()` at any time. */
export class ActiveResponse {
  readonly id = newId('resp');
  readonly calls: MadeCall[] = [];
  private readonly items: LoggedItem[] = [];
  private timer: NodeJS.Timeout | undefined;
  private finished = false;
  private deltas = 0;
  private outputTokens = 0;

  private readonly host: ResponseHost;
  private readonly plan: ResponsePlan;

  constructor(host: ResponseHost, plan: ResponsePlan) {
    this.host = host;
    this.plan = plan;
  }

  /** True until done/cancelled/stopped. */
  inFlight(): boolean {
    return !this.finished;
  }

  start(): void {
    this.host.send(frames.responseCreated(this.id));
    const steps = this.plan.kind === 'audio' ? this.audioSteps(this.plan) : this.toolSteps(this.plan.calls);
    this.timer = setTimeout(() => this.run(steps, performance.now()), this.host.thinkMs);
  }

  /** Cancel with `response.done cancelled` (§4.2, §10.14): open items end `incomplete`, no output_audio.done. */
  cancel(reason: 'interrupted' | 'client_cancelled'): void {
    if (this.finished) return;
    this.clear();
    for (const logged of this.items.filter((entry) => entry.open)) this.closeItem(logged, 'incomplete');
    this.finish({ status: 'cancelled', reason });
  }

  /** Stop silently (the socket is gone). */
  stop(): void {
    this.clear();
    this.finished = true;
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs steps drift-free against the wall clock: step i is due at i × chunk / realtimeFactor. */
  private run(steps: (() => void)[], t0: number, next = 0): void {
    const interval = CHUNK_MS / this.host.realtimeFactor;
    const due = interval > 0 ? Math.floor((performance.now() - t0) / interval) + 1 : steps.length;
    let index = next;
    while (index < Math.min(due, steps.length) && !this.finished) steps[index++]!();
    if (this.finished || index >= steps.length) return;
    this.timer = setTimeout(() => this.run(steps, t0, index), Math.max(0, t0 + index * interval - performance.now()));
  }

  private addItem(item: ConversationItem): LoggedItem {
    const logged = { item, previous: this.host.appendItem(item.id!), open: true };
    this.items.push(logged);
    this.host.send(frames.itemAdded(item, logged.previous));
    return logged;
  }

  private closeItem(logged: LoggedItem, status: 'completed' | 'incomplete', patch: Partial<ConversationItem> = {}): void {
    logged.item = { ...logged.item, ...patch, status };
    logged.open = false;
    this.host.send(frames.itemDone(logged.item, logged.previous));
  }

  private finish(end: frames.ResponseEnd): void {
    this.finished = true;
    const usage = { input: this.plan.inputTokens, output: this.outputTokens };
    this.host.send(frames.responseDone(this.id, end, this.items.map((entry) => entry.item), usage));
    this.host.onEnd(this, end);
  }

  private audioSteps(plan: Extract<ResponsePlan, { kind: 'audio' }>): (() => void)[] {
    const itemId = newId('item');
    const logged = this.addItem(frames.messageItem(itemId, 'assistant', 'in_progress'));
    const chunks = chunkPcm(plan.pcm, this.host.outputRate, plan.chunkMs ?? CHUNK_MS);
    const words = plan.transcript?.split(' ') ?? [];
    const wordsPerChunk = Math.max(1, Math.ceil(words.length / Math.max(1, chunks.length)));
    const steps = chunks.map((chunk, index) => () => {
      const phrase = words.slice(index * wordsPerChunk, (index + 1) * wordsPerChunk);
      if (phrase.length) this.host.send(frames.transcriptDelta(this.id, itemId, (index ? ' ' : '') + phrase.join(' ')));
      this.host.send(frames.audioDelta(this.id, itemId, chunk));
      this.outputTokens += 2; // §10.30: plausible integers, ~50 tokens per second of audio
      this.host.onAudioDelta(this, ++this.deltas);
    });
    steps.push(() => {
      this.host.send(frames.audioDone(this.id, itemId));
      const text = plan.transcript;
      this.closeItem(logged, 'completed', text === undefined ? {} : { content: [{ type: 'output_audio', text }] });
      this.finish({ status: 'completed' });
    });
    return steps;
  }

  private toolSteps(calls: Extract<ResponsePlan, { kind: 'tools' }>['calls']): (() => void)[] {
    const steps: (() => void)[] = [];
    calls.forEach((call, outputIndex) => {
      const made: MadeCall = { callId: call.callId ?? newId('call'), name: call.name, arguments: call.arguments };
      const itemId = newId('item');
      let logged: LoggedItem | undefined;
      const open = () => (logged = this.addItem(frames.functionCallItem(itemId, made.callId, made.name, 'in_progress')));
      if (outputIndex === 0) open(); // §5.2: the assistant item is added before the argument stream
      else steps.push(open);
      splitArguments(call.arguments).forEach((fragment, index) =>
        steps.push(() => {
          this.host.send(frames.argumentsDelta(this.id, made.callId, itemId, outputIndex, fragment, index === 0 ? made.name : undefined));
          this.outputTokens += Math.max(1, Math.round(fragment.length / 4));
        }),
      );
      steps.push(() => {
        this.host.send(frames.argumentsDone(this.id, made.callId, itemId, outputIndex, made.name, made.arguments));
        this.calls.push(made);
        if (logged) this.closeItem(logged, 'completed', { arguments: made.arguments });
        this.host.onCallDone(this, made);
      });
    });
    steps.push(() => this.finish({ status: 'completed' })); // §10.16: output = the function_call items
    return steps;
  }
}

/** Split a JSON string into 2–4 fragments (fewer when it is too short), as a model would stream it. */
export function splitArguments(text: string): string[] {
  const parts = Math.max(1, Math.min(4, Math.max(2, Math.ceil(text.length / 12)), text.length));
  const size = Math.ceil(text.length / parts);
  const fragments: string[] = [];
  for (let offset = 0; offset < text.length; offset += size) fragments.push(text.slice(offset, offset + size));
  return fragments.length ? fragments : [''];
}
