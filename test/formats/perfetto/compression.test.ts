import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import {
  recordPieces,
  writePerfetto,
  type PerfettoWriteOptions,
} from '../../../src/formats/perfetto/writer.js';
import { perfettoSchema } from '../../../src/formats/perfetto/schema.js';
import { openTrace } from '../../../src/ops/open.js';
import { loadNative } from '../../../src/record/native.js';
import {
  encodeVarint,
  expandCompressed,
  splitRecords,
  validatePerfetto,
} from '../../support/perfetto-validator.js';
import { memoryOutput, tmp } from './helpers.js';

const TracePacketType = perfettoSchema().packet;

/** A Trace record (tag, varint length, body) of `size` body bytes. */
function record(size: number, fill: number): Buffer {
  return Buffer.concat([Buffer.from([0x0a]), encodeVarint(size), Buffer.alloc(size, fill)]);
}

async function convert(path: string, options: PerfettoWriteOptions): Promise<Buffer> {
  const { source } = await openTrace(path);
  const mem = memoryOutput();
  await writePerfetto(source, mem.out, options);
  return mem.bytes();
}

/** Inflated sizes of the `compressed_packets` of a trace, and how many records are not compressed. */
function containers(buf: Buffer): { inflated: number[]; plain: number } {
  const inflated: number[] = [];
  let plain = 0;
  for (const rec of splitRecords(buf)) {
    const p = TracePacketType.toObject(TracePacketType.decode(rec.body)) as {
      compressed_packets?: Uint8Array;
    };
    if (p.compressed_packets) inflated.push(inflateSync(p.compressed_packets).length);
    else plain++;
  }
  return { inflated, plain };
}

describe('Perfetto writer: compressed_packets stay under 512 KB', () => {
  it('cuts chunks at record boundaries into pieces of at most the limit (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 0, maxLength: 60 }),
        fc.integer({ min: 64, max: 5000 }),
        (sizes, max) => {
          const chunk = Buffer.concat(sizes.map((n, i) => record(n, i & 0xff)));
          const pieces = [...recordPieces(chunk, max)];
          assert.ok(Buffer.concat(pieces).equals(chunk), 'the pieces are the chunk, in order');
          for (const piece of pieces) {
            const records = splitRecords(piece); // throws unless the piece is whole records
            assert.ok(piece.length <= max || records.length === 1, `piece of ${piece.length} bytes`);
          }
        },
      ),
    );
  });

  it('wraps at most 448 KB of records per container, even when the writer flushes in bigger chunks', async function () {
    this.timeout(30000);
    const events = ['{"ph":"M","name":"thread_name","pid":1,"tid":1,"args":{"name":"main"}}'];
    for (let i = 0; i < 40000; i++)
      events.push(
        `{"ph":"X","name":"f${i % 97}","pid":1,"tid":1,"ts":${i * 10},"dur":5,"args":{"i":${i},"s":"${'x'.repeat(i % 50)}"}}`,
      );
    const path = join(tmp, 'compress-limit.json');
    writeFileSync(path, `[${events.join(',\n')}]`);
    const flushBytes = 4 << 20;
    const plain = await convert(path, { compress: false, flushBytes });
    const packed = await convert(path, { compress: true, flushBytes });
    assert.ok(plain.length > 2 * (448 << 10), `${plain.length} bytes uncompressed`);
    const { inflated } = containers(packed);
    assert.ok(inflated.length >= 3, `${inflated.length} containers`);
    for (const n of inflated) assert.ok(n <= 448 << 10, `a container holds ${n} bytes`);
    assert.ok(expandCompressed(packed).equals(plain), 'the same packets inside');
    assert.deepEqual(validatePerfetto(packed).violations, []);
  });

  it('leaves a single packet bigger than the limit uncompressed', async () => {
    const big = 'y'.repeat(600 << 10);
    const path = join(tmp, 'compress-big-packet.json');
    writeFileSync(
      path,
      `[{"ph":"X","name":"a","pid":1,"tid":1,"ts":0,"dur":9,"args":{"blob":"${big}"}},` +
        `{"ph":"X","name":"b","pid":1,"tid":1,"ts":10,"dur":9}]`,
    );
    const plain = await convert(path, { compress: false });
    const packed = await convert(path, { compress: true });
    const { inflated, plain: uncompressed } = containers(packed);
    assert.equal(uncompressed, 1, 'the big packet is written as it is');
    for (const n of inflated) assert.ok(n <= 448 << 10);
    assert.ok(expandCompressed(packed).equals(plain), 'the same packets, in the same order');
    assert.deepEqual(validatePerfetto(packed).violations, []);
  });
});

describe("Perfetto writer: the addon's deflate", () => {
  it('makes the bytes zlib.deflate makes', async () => {
    const addon = loadNative();
    assert.ok(addon?.deflate, 'the addon (npm install builds it) has deflate');
    let seed = 7;
    const random = Buffer.alloc(300_000);
    for (let i = 0; i < random.length; i++) random[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    const inputs = [
      Buffer.alloc(0),
      Buffer.from('x'),
      Buffer.from('ts name ts name '.repeat(20_000)),
      random,
      Buffer.concat([random.subarray(0, 100_000), Buffer.alloc(348_000, 7)]),
    ];
    for (const input of inputs)
      for (const level of [1, 6]) {
        const mine = await addon.deflate(input, level);
        assert.ok(mine.equals(deflateSync(input, { level })), `${input.length} bytes at level ${level}`);
      }
  });

  it('is what the compressing writer uses, for the same file as node:zlib gives', async () => {
    const addon = loadNative()!;
    const original = addon.deflate!;
    let calls = 0;
    addon.deflate = (bytes, level) => {
      calls++;
      return original(bytes, level);
    };
    const path = join(tmp, 'native-deflate.json');
    const events = [];
    for (let i = 0; i < 20000; i++)
      events.push(`{"ph":"X","name":"f${i % 50}","pid":1,"tid":1,"ts":${i * 10},"dur":5,"args":{"i":${i}}}`);
    writeFileSync(path, `[${events.join(',')}]`);
    try {
      const viaAddon = await convert(path, { compress: true });
      assert.ok(calls > 0, 'the addon deflated');
      const viaZlib = await convert(path, { compress: true, native: false });
      assert.ok(viaAddon.equals(viaZlib), 'the same bytes');
    } finally {
      addon.deflate = original;
    }
  });
});
