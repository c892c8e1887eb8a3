/**
 * The conversation side of a session: VAD turns, responses, barge-in, tool turns
 * (hydra-protocol §2.5, §3.4–3.5, §4, §5, §10.12–10.21).
 */
import type { ClientEvent, ConversationItem, ServerEvent, Tool } from '../protocol.js';
import * as frames from './frames.js';
import { newId } from './ids.js';
import { ActiveResponse, type ResponsePlan } from './response.js';
import { callsForTurn, type ToolRule } from './rules.js';
import { EnergyVad, type VadOptions } from './vad.js';
import { synthVoice, upsample } from './voice.js';

/** What the conversation needs from its session. */
export type ConversationHost = {
  send(frame: ServerEvent): void;
  readonly outputRate: number;
  readonly realtimeFactor: number;
  readonly responseDelayMs: number;
  readonly toolTimeoutMs: number;
  readonly transcripts: boolean;
  readonly rules: readonly ToolRule[];
  readonly vad: Partial<VadOptions>;
  /** Fault hook after each audio delta; returns true when the socket was dropped. */
  afterAudioDelta(count: number): boolean;
};

type PendingTools = { callIds: Set<string>; outputs: Map<string, string>; names: string[]; timer: NodeJS.Timeout };

/** One session's conversation state. */
export class Conversation {
  private readonly host: ConversationHost;
  private readonly vad: EnergyVad;
  private readonly log: string[] = [];
  private tools: Tool[] = [];
  private response: ActiveResponse | undefined;
  private pending: PendingTools | undefined;
  private userItemId: string | undefined;
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
    this.host.send(frames.itemAdded(frames.messageItem(itemId, 'user', 'in_progress'), this.appendItem(itemId)));
  }

  private speechStopped(atMs: number, speechMs: number, pcm: Buffer): void {
    const itemId = this.userItemId ?? newId('item');
    const previous = this.log[this.log.indexOf(itemId) - 1];
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
    const calls = callsForTurn(this.host.rules, this.completedTurns, this.toolNames());
    if (calls.length) this.startResponse({ kind: 'tools', calls, inputTokens: this.inputTokens() });
    else this.startResponse(this.echoPlan(pcm, speechMs));
  }

  /** conversation.item.create: acknowledged with item.added + item.done (§10.21). */
  itemCreate(event: Extract<ClientEvent, { type: 'conversation.item.create' }>): void {
    const item: ConversationItem = { ...event.item, id: event.item.id ?? newId('item'), status: 'completed' };
    const previous = this.appendItem(item.id!);
    this.host.send(frames.itemAdded(item, previous));
    this.host.send(frames.itemDone(item, previous));
    if (item.type === 'function_call_output' && item.call_id && this.pending?.callIds.has(item.call_id)) {
      this.pending.outputs.set(item.call_id, item.output ?? '');
    }
  }

  /** response.create: narration after tool outputs, or a fresh response; no-op while one is in flight (§10.19/20). */
  responseCreate(): void {
    if (this.current()) return;
    const pending = this.pending;
    if (!pending) {
      this.startResponse(this.voicePlan(1200, 'You asked me to say something, so here I am.'));
      return;
    }
    clearTimeout(pending.timer);
    this.pending = undefined;
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
        onEnd: (active, end) => {
          if (end.status === 'completed' && active.calls.length) this.awaitToolOutputs(active);
        },
      },
      plan,
    );
    this.response = response;
    response.start();
    return response;
  }

  /** §5.5, §10.18: outputs + response.create must arrive within toolTimeoutMs, else the turn is abandoned. */
  private awaitToolOutputs(response: ActiveResponse): void {
    if (this.pending) clearTimeout(this.pending.timer);
    const timer = setTimeout(() => {
      if (this.pending?.timer !== timer) return;
      this.pending = undefined;
      this.host.send(frames.errorFrame('tool_response_timeout', `no tool output and response.create within ${this.host.toolTimeoutMs} ms`));
    }, this.host.toolTimeoutMs);
    this.pending = {
      callIds: new Set(response.calls.map((call) => call.callId)),
      outputs: new Map(),
      names: [...new Set(response.calls.map((call) => call.name))],
      timer,
    };
  }

  private appendItem(id: string): string | undefined {
    const previous = this.log.at(-1);
    this.log.push(id);
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
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
  }
}
