/**
 * The conversation side of a session: VAD turns, responses, barge-in, tool turns
 * (hydra-protocol §2.5, §3.4–3.5, §4, §5, §10.12–10.21).
 */
import type { ClientEvent, ConversationItem, ServerEvent, Tool } from '../protocol.js';
import { autoCallForTurn } from './auto-calls.js';
import * as frames from './frames.js';
import { newId } from './ids.js';
import { ActiveResponse, type MadeCall, type ResponsePlan } from './response.js';
import { callsForTurn, type ToolRule } from './rules.js';
import { EnergyVad, type VadOptions } from './vad.js';
import { synthVoice, upsample } from './voice.js';

/** What the conversation needs from its session. */
/** How a session's turns behave (the simulator's options, resolved per session). */
export type TurnSettings = {
  readonly realtimeFactor: number;
  readonly responseDelayMs: number;
  readonly toolTimeoutMs: number;
  readonly transcripts: boolean;
  readonly rules: readonly ToolRule[];
  /** Without rules: call a declared tool on every user turn (round-robin, arguments from its schema). */
  readonly autoToolCalls: boolean;
  readonly vad: Partial<VadOptions>;
};

export type ConversationHost = TurnSettings & {
  send(frame: ServerEvent): void;
  readonly outputRate: number;
  /** Fault hook after each audio delta; returns true when the socket was dropped. */
  afterAudioDelta(count: number): boolean;
};

/** The calls of one tool response, answerable from their `…arguments.done` on (§5.4). */
type PendingTools = { responseId: string; callIds: Set<string>; outputs: Map<string, string>; names: string[]; timer?: NodeJS.Timeout };

/** One session's conversation state. */
export class Conversation {
  private readonly host: ConversationHost;
  private readonly vad: EnergyVad;
  /** The newest item of the conversation log (only it is needed: each item names its predecessor, §2.7). */
  private lastItemId: string | undefined;
  private tools: Tool[] = [];
  private response: ActiveResponse | undefined;
  private pending: PendingTools | undefined;
  /** A response.create that arrived while a response was in flight: started after its response.done. */
  private queuedCreate = false;
  private userItemId: string | undefined;
  /** The item before the open user item, for its conversation.item.done. */
  private userPreviousId: string | undefined;
  private completedTurns = 0;
  private inputMs = 0;
  private seed = 0;
  private disposed = false;

  constructor(host: ConversationHost) {
    this.host = host;
    this.vad = new EnergyVad(host.vad);
  }

  /** After session.configured: remember tools, maybe greet (§2.5). */
  configured(tools: Tool[], greet: boolean): void {
    this.tools = tools;
    if (greet) this.startResponse(this.voicePlan(1600, 'Hello! This is the Hydra simulator. Say something and I will say it back.'));
  }

  setTools(tools: Tool[]): void {
    this.tools = tools;
  }

  /** The response now in flight, if any. */
  current(): ActiveResponse | undefined {
    return this.response?.inFlight() ? this.response : undefined;
  }

  /** The output sample rate announced in session.configured. */
  outputRate(): number {
    return this.host.outputRate;
  }

  /** Declared tool names (faults use them). */
  toolNames(): string[] {
    return this.tools.map((tool) => tool.name);
  }

  /** Validated 16 kHz PCM from an append. */
  audio(pcm: Buffer): void {
    this.inputMs += pcm.length / 32;
    for (const event of this.vad.push(pcm)) {
      if (event.type === 'start') this.speechStarted(event.atMs);
      else this.speechStopped(event.atMs, event.speechMs, event.pcm);
    }
  }

  private speechStarted(atMs: number): void {
    const itemId = newId('item');
    this.userItemId = itemId;
    this.host.send(frames.speechStarted(atMs, itemId));
    this.current()?.cancel('interrupted'); // §3.5, §10.14/15: barge-in, also while "thinking"
    this.userPreviousId = this.appendItem(itemId);
    this.host.send(frames.itemAdded(frames.messageItem(itemId, 'user', 'in_progress'), this.userPreviousId));
  }

  private speechStopped(atMs: number, speechMs: number, pcm: Buffer): void {
    const itemId = this.userItemId ?? newId('item');
    const previous = this.userPreviousId;
    this.host.send(frames.speechStopped(atMs, itemId));
    const minSpeechMs = this.host.vad.minSpeechMs ?? 250;
    if (speechMs < minSpeechMs) {
      // §2.7, §10.13: a discarded turn (noise, a cough) ends incomplete and gets no response
      this.host.send(frames.itemDone(frames.messageItem(itemId, 'user', 'incomplete'), previous));
      return;
    }
    this.completedTurns++;
    const text = this.host.transcripts ? `(${(speechMs / 1000).toFixed(1)} s of user speech)` : undefined;
    this.host.send(frames.itemDone(frames.messageItem(itemId, 'user', 'completed', text), previous));
    const calls = this.host.autoToolCalls
      ? autoCallForTurn(this.tools, this.completedTurns)
      : callsForTurn(this.host.rules, this.completedTurns, this.toolNames());
    if (calls.length) this.startResponse({ kind: 'tools', calls, inputTokens: this.inputTokens() });
    else this.startResponse(this.echoPlan(pcm, speechMs));
  }

  /**
   * conversation.item.create: a message is acknowledged with item.added + item.done (§10.21). A
   * function_call_output is recorded silently: Smallest's clients do not expect an echo of it, and the
   * browser demo renders a role-less item as an empty assistant bubble.
   */
  itemCreate(event: Extract<ClientEvent, { type: 'conversation.item.create' }>): void {
    const item: ConversationItem = { ...event.item, id: event.item.id ?? newId('item'), status: 'completed' };
    if (item.type === 'function_call_output') {
      if (item.call_id && this.pending?.callIds.has(item.call_id)) this.pending.outputs.set(item.call_id, item.output ?? '');
      return;
    }
    const previous = this.appendItem(item.id!);
    this.host.send(frames.itemAdded(item, previous));
    this.host.send(frames.itemDone(item, previous));
  }

  /**
   * response.create: narration after tool outputs, or a fresh response (§10.19). While a response is
   * in flight it is queued (once) and started after that response's response.done.
   */
  responseCreate(): void {
    if (this.current()) {
      this.queuedCreate = true;
      return;
    }
    const pending = this.pending;
    if (!pending) {
      this.startResponse(this.voicePlan(1200, 'You asked me to say something, so here I am.'));
      return;
    }
    this.clearPending();
    const outputs = [...pending.outputs.values()].join(' ');
    const text = `Here is what ${pending.names.join(' and ')} returned: ${outputs.slice(0, 120)}`;
    // narration length grows with the tool output: 1–3 s
    this.startResponse(this.voicePlan(Math.min(3000, 1000 + outputs.length * 10), text));
  }

  /** response.cancel: cancels the in-flight response (optionally only a matching id); no-op otherwise (§4.3). */
  responseCancel(responseId: string | undefined): void {
    const current = this.current();
    if (!current || (responseId !== undefined && responseId !== current.id)) return;
    current.cancel('client_cancelled');
  }

  /** Start a response with an explicit plan (faults use this too). */
  startResponse(plan: ResponsePlan): ActiveResponse {
    this.current()?.cancel('interrupted');
    const response = new ActiveResponse(
      {
        send: (frame) => this.host.send(frame),
        appendItem: (id) => this.appendItem(id),
        outputRate: this.host.outputRate,
        realtimeFactor: this.host.realtimeFactor,
        thinkMs: this.host.responseDelayMs,
        onAudioDelta: (active, count) => {
          if (this.host.afterAudioDelta(count)) active.stop();
        },
        onCallDone: (active, call) => this.callDone(active, call),
        onEnd: (active, end) => this.responseEnded(active, end),
      },
      plan,
    );
    this.response = response;
    response.start();
    return response;
  }

  /** A call's `…arguments.done` went out: from now on its output is accepted (§5.4; a client may answer at once). */
  private callDone(response: ActiveResponse, call: MadeCall): void {
    if (this.pending?.responseId !== response.id) {
      this.clearPending(); // an older unanswered tool turn is superseded by this one
      this.pending = { responseId: response.id, callIds: new Set(), outputs: new Map(), names: [] };
    }
    this.pending.callIds.add(call.callId);
    if (!this.pending.names.includes(call.name)) this.pending.names.push(call.name);
  }

  private responseEnded(response: ActiveResponse, end: frames.ResponseEnd): void {
    if (this.queuedCreate) {
      this.queuedCreate = false;
      // after a barge-in the user's new turn gets the answer: the queued request is dropped
      if (end.status !== 'cancelled' || end.reason !== 'interrupted') {
        this.responseCreate();
        return;
      }
    }
    if (this.pending?.responseId !== response.id) return;
    if (end.status === 'cancelled') this.clearPending(); // a cancelled tool turn is abandoned silently
    else if (!this.pending.timer) this.awaitToolOutputs(this.pending);
  }

  /** §5.5, §10.18: outputs + response.create must arrive within toolTimeoutMs, else the turn is abandoned. */
  private awaitToolOutputs(pending: PendingTools): void {
    pending.timer = setTimeout(() => {
      if (this.pending !== pending) return;
      this.pending = undefined;
      this.host.send(frames.errorFrame('tool_response_timeout', `no tool output and response.create within ${this.host.toolTimeoutMs} ms`));
    }, this.host.toolTimeoutMs);
  }

  private clearPending(): void {
    if (this.pending?.timer) clearTimeout(this.pending.timer);
    this.pending = undefined;
  }

  private appendItem(id: string): string | undefined {
    const previous = this.lastItemId;
    this.lastItemId = id;
    return previous;
  }

  private inputTokens(): number {
    return 40 + Math.round(this.inputMs / 20); // §10.30: plausible integers, ~50 tokens per second of input
  }

  private echoPlan(pcm16k: Buffer, speechMs: number): ResponsePlan {
    const text = this.host.transcripts ? `You said something ${(speechMs / 1000).toFixed(1)} seconds long, and here it is again.` : undefined;
    return { kind: 'audio', pcm: upsample(pcm16k, 16000, this.host.outputRate), inputTokens: this.inputTokens(), ...(text ? { transcript: text } : {}) };
  }

  private voicePlan(durationMs: number, text: string): ResponsePlan {
    const pcm = synthVoice(durationMs, this.host.outputRate, this.seed++);
    return { kind: 'audio', pcm, inputTokens: this.inputTokens(), ...(this.host.transcripts ? { transcript: text } : {}) };
  }

  /** Stop timers; the socket is gone. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.response?.stop();
    this.clearPending();
    this.queuedCreate = false;
  }
}
