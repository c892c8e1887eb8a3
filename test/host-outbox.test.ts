/**
 * The audio host's outbox (src/audio/host/outbox.ts): a playback ack rides with the next mic chunk, in
 * one write and ahead of it, so the parent wakes once per period; with no mic (or a mic that stopped
 * delivering) an ack never waits; records that must not wait (flushed) go out at once, behind held acks.
 * Driven with a hand-moved clock: no real time, no devices (the live path is in audio-devices.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { HOLD_MS, Outbox } from '../src/audio/host/outbox.js';
import { encodeRecord, Kind, RecordReader, type Record } from '../src/audio/host/wire.js';

function harness() {
  let now = 1000;
  const writes: Record[][] = [];
  const outbox = new Outbox(
    (bytes) => {
      const records: Record[] = [];
      new RecordReader((record) => records.push({ ...record, payload: Buffer.from(record.payload) })).push(bytes);
      writes.push(records);
    },
    () => now,
  );
  const ack = (bytes: number) => outbox.ack(encodeRecord(Kind.ack, 2, 0, bytes, now));
  return {
    outbox,
    writes,
    ack,
    advance: (ms: number) => (now += ms),
    kinds: () => writes.map((records) => records.map((r) => r.kind)),
  };
}

describe('audio host outbox', () => {
  it('holds an ack while the mic delivers and sends it in the same write as the next mic chunk, ack first', () => {
    const h = harness();
    h.outbox.inputOpened();
    h.outbox.input(1, 1000, Buffer.alloc(640, 7));
    h.advance(8);
    h.ack(960);
    expect(h.writes).toHaveLength(1); // only the first mic chunk: the ack waits
    h.advance(12);
    h.outbox.input(1, 1020, Buffer.alloc(640, 9));
    expect(h.kinds()).toEqual([[Kind.data], [Kind.ack, Kind.data]]);
    const [ack, data] = h.writes[1]!;
    expect(ack).toMatchObject({ stream: 2, b: 960, time: 1008 }); // its own timestamp, not when it went out
    expect(data).toMatchObject({ stream: 1, time: 1020 });
    expect(data!.payload.equals(Buffer.alloc(640, 9))).toBe(true);
  });

  it('sends acks at once with no mic open, and once the mic is closed', () => {
    const h = harness();
    h.ack(960);
    expect(h.kinds()).toEqual([[Kind.ack]]);
    h.outbox.inputOpened();
    h.outbox.input(1, 1000, Buffer.alloc(640));
    h.ack(480);
    expect(h.writes).toHaveLength(2);
    h.outbox.inputClosed(); // the held ack goes out with the mic's close, not with a chunk that never comes
    expect(h.kinds()).toEqual([[Kind.ack], [Kind.data], [Kind.ack]]);
    h.ack(960);
    expect(h.kinds()).toHaveLength(4);
  });

  it('does not hold acks for a mic that stopped delivering, and releases held ones on the next output write', () => {
    const h = harness();
    h.outbox.inputOpened();
    h.outbox.input(1, 1000, Buffer.alloc(640));
    h.advance(10);
    h.ack(960); // held: the mic delivered 10 ms ago
    h.advance(HOLD_MS - 10);
    h.outbox.tick(); // not yet overdue
    expect(h.writes).toHaveLength(1);
    h.advance(11);
    h.outbox.tick(); // the mic missed its chunk: the held ack goes out on its own
    expect(h.kinds()).toEqual([[Kind.data], [Kind.ack]]);
    h.ack(960); // the mic is silent for longer than HOLD_MS: no holding at all
    expect(h.kinds()).toEqual([[Kind.data], [Kind.ack], [Kind.ack]]);
  });

  it('sends a flushed record at once, behind the acks it holds', () => {
    const h = harness();
    h.outbox.inputOpened();
    h.outbox.input(1, 1000, Buffer.alloc(640));
    h.ack(960);
    h.ack(480);
    h.outbox.send(encodeRecord(Kind.flushed, 2, 1, 960, 1010));
    expect(h.kinds()).toEqual([[Kind.data], [Kind.ack, Kind.ack, Kind.flushed]]);
    h.outbox.input(1, 1020, Buffer.alloc(640)); // nothing held any more: the chunk goes alone
    expect(h.kinds().at(-1)).toEqual([Kind.data]);
  });
});
