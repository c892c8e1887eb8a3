/**
 * The audio pipe between hydra-chat and its audio host: binary records on a dedicated stdio pipe (fd 3),
 * so PCM never goes through a serializer. Control messages (open, close, devices, errors) stay on the
 * IPC channel (./protocol.ts); everything on the audio path travels here, in order.
 *
 * A record is a 24-byte header + payload:
 *   u32 payload length · u8 kind · u8 stream id · u16 0 · u32 a · u32 b · f64 time · payload
 * Times are milliseconds of the shared monotonic clock (process.hrtime), the same in both processes.
 */

export const Kind = {
  /** → host: queue PCM16 at the device rate for playback. a = flush epoch. */
  write: 1,
  /** → host: drop what is queued; later writes carry epoch a. */
  flush: 2,
  /** ← host: one input chunk as read; time = when read() returned. */
  data: 3,
  /** ← host: a chunk handed to PortAudio. a = epoch, b = bytes of queued audio in it (the rest silence), time = when. */
  ack: 4,
  /** ← host: the flush with epoch a has taken effect. b = reply audio bytes PortAudio still took after it, time = when the last of it enters PortAudio's buffer (0: none). */
  flushed: 5,
} as const;

export type Record = { kind: number; stream: number; a: number; b: number; time: number; payload: Buffer };

export const HEADER_BYTES = 24;

export function encodeRecord(kind: number, stream: number, a: number, b: number, time: number, payload?: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + (payload?.length ?? 0));
  encodeInto(out, 0, kind, stream, a, b, time, payload);
  return out;
}

/** Encodes one record into `out` at `offset` (room for it is the caller's); returns its length. */
export function encodeInto(out: Buffer, offset: number, kind: number, stream: number, a: number, b: number, time: number, payload?: Buffer): number {
  const length = payload?.length ?? 0;
  out.writeUInt32LE(length, offset);
  out.writeUInt8(kind, offset + 4);
  out.writeUInt8(stream, offset + 5);
  out.writeUInt16LE(0, offset + 6);
  out.writeUInt32LE(a >>> 0, offset + 8);
  out.writeUInt32LE(b >>> 0, offset + 12);
  out.writeDoubleLE(time, offset + 16);
  payload?.copy(out, offset + HEADER_BYTES);
  return HEADER_BYTES + length;
}

/** Cuts a byte stream back into records, whatever the chunking of the pipe. */
export class RecordReader {
  private pending: Buffer | null = null;
  private readonly onRecord: (record: Record) => void;

  constructor(onRecord: (record: Record) => void) {
    this.onRecord = onRecord;
  }

  push(chunk: Buffer): void {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let offset = 0;
    while (data.length - offset >= HEADER_BYTES) {
      const length = data.readUInt32LE(offset);
      const end = offset + HEADER_BYTES + length;
      if (end > data.length) break;
      this.onRecord({
        kind: data.readUInt8(offset + 4),
        stream: data.readUInt8(offset + 5),
        a: data.readUInt32LE(offset + 8),
        b: data.readUInt32LE(offset + 12),
        time: data.readDoubleLE(offset + 16),
        payload: data.subarray(offset + HEADER_BYTES, end),
      });
      offset = end;
    }
    if (offset < data.length) this.pending = data.subarray(offset);
  }
}

/** Now, in ms of the shared monotonic clock. */
export function clockMs(): number {
  return performance.now() + PERF_TO_CLOCK;
}

/** A shared-clock time as this process's performance.now(). */
export function clockToPerf(ms: number): number {
  return ms - PERF_TO_CLOCK;
}

/**
 * performance.now() and process.hrtime() tick together (both uv_hrtime), so their offset is fixed per
 * process. Measured between two performance.now() readings, the closest pair of a few: the first calls
 * can be slow (in the host's interpreter-only lite mode, by a millisecond or two).
 */
function perfToClock(): number {
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 5; i += 1) {
    const before = performance.now();
    const clock = Number(process.hrtime.bigint()) / 1e6;
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      offset = clock - (before + after) / 2;
    }
  }
  return offset;
}

const PERF_TO_CLOCK = perfToClock();
