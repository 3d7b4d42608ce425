import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { perfettoSchema } from '../../../src/formats/perfetto/schema.js';
import { expandCompressed, splitRecords, validatePerfetto } from '../../support/perfetto-validator.js';
import { convertTo, readBytes, tmp } from './helpers.js';

const TracePacketType = perfettoSchema().packet;

// A minimal ring dump built from schemas/ring-dump (version 1): one process, two threads.
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const u64 = (n: number | bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const padTo = (b: Buffer, m: number): Buffer => Buffer.concat([b, Buffer.alloc((m - (b.length % m)) % m)]);
const section = (type: number, body: Buffer): Buffer =>
  Buffer.concat([u32(type), u32(0), u64(body.length), body]);

function dump(rings: { tid: number; name: string; records: [number, number, number][] }[]): Buffer {
  const T0 = 1_000_000_000n;
  const NS0 = 5_000_000_000n;
  const header = Buffer.concat([
    Buffer.from('VIZDUMP\0', 'latin1'),
    Buffer.from([1, 0, 64, 0]),
    u32(1),
    u32(4242),
    u32(0),
    u64(T0),
    u64(NS0),
    u64(T0 + 10_000_000_000n),
    u64(NS0 + 5_000_000_000n),
    u64(1_763_700_000_123_456_789n),
  ]);
  const argv = Buffer.from('node\0/app/main.js\0', 'utf8');
  const proc = padTo(Buffer.concat([u32(argv.length), u32(0), argv]), 8);
  const file = Buffer.from('/app/main.js');
  const entries = [Buffer.concat([u32(1), u32(1), u32(file.length), padTo(file, 4)])];
  for (const [id, name, line, col] of [
    [1, 'main', 1, 1],
    [2, 'work', 5, 3],
  ] as const) {
    const n = Buffer.from(name);
    entries.push(
      Buffer.concat([u32(2), u32(id), u32(1), u32(line), u32(col), u32(0), u32(n.length), padTo(n, 4)]),
    );
  }
  const parts = [header, section(1, proc), section(2, padTo(Buffer.concat(entries), 8))];
  for (const r of rings) {
    const name = Buffer.alloc(40);
    name.write(r.name);
    const records = r.records.map(([t, a, kind]) => Buffer.concat([u64(T0 + BigInt(t)), u32(a), u32(kind)]));
    const n = r.records.length;
    parts.push(
      section(
        3,
        Buffer.concat([
          u32(r.tid),
          u32(0),
          u32(8),
          u32(16),
          u64(n),
          u64(0),
          u64(n),
          u32(0),
          u32(0),
          name,
          ...records,
          u64(n),
          u64(0),
        ]),
      ),
    );
  }
  parts.push(section(0xffff, Buffer.alloc(0)));
  return Buffer.concat(parts);
}

describe('Perfetto writer: ring dumps', () => {
  it('converts enter/exit to nested slices with thread names and source locations', async () => {
    const path = join(tmp, 'two.vizdump');
    writeFileSync(
      path,
      dump([
        {
          tid: 77,
          name: 'main',
          records: [
            [0, 1, 1],
            [20, 2, 1],
            [30, 2, 2],
            [40, 1, 2],
          ],
        },
        {
          tid: 78,
          name: 'worker',
          records: [
            [10, 2, 1],
            [50, 2, 2],
          ],
        },
      ]),
    );
    const { path: out, result } = await convertTo(path, 'perfetto', 'two.pftrace');
    assert.equal(result.inputFormat, 'ring');
    const bytes = readBytes(out);
    const report = validatePerfetto(bytes);
    assert.deepEqual(report.violations, []);
    assert.equal(report.trackEvents, 6);
    type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const packets = splitRecords(expandCompressed(bytes)).map(
      (r) => TracePacketType.toObject(TracePacketType.decode(r.body)) as Msg,
    );
    const threads = packets
      .filter((p) => p.track_descriptor?.thread)
      .map((p) => p.track_descriptor.thread.thread_name);
    assert.deepEqual(threads.filter(Boolean).sort(), ['main', 'worker']);
    const locs = packets.flatMap((p) => p.interned_data?.source_locations ?? []);
    assert.ok(
      locs.some(
        (l: { function_name: string; file_name: string; line_number: number }) =>
          l.function_name === 'work' && l.file_name === '/app/main.js' && l.line_number === 5,
      ),
    );
    const back = await convertTo(out, 'chrome', 'two.back.json');
    const events = (
      JSON.parse((await import('node:fs')).readFileSync(back.path, 'utf8')) as {
        traceEvents: { ph: string; name?: string; tid: number }[];
      }
    ).traceEvents;
    assert.deepEqual(
      events.filter((e) => e.ph === 'B' && e.tid === 77).map((e) => e.name),
      ['main (/app/main.js:1:1)', 'work (/app/main.js:5:3)'],
    );
  });
});
