import assert from 'node:assert/strict';
import { writePerfetto, type PerfettoWriteOptions } from '../../../src/formats/perfetto/writer.js';
import { ringSourceFromBytes } from '../../../src/formats/ring/reader.js';
import { hasCallRuns, withBatches, type TraceSource } from '../../../src/model/source.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPerfetto } from '../../../src/formats/perfetto/reader.js';
import { openInput } from '../../../src/io/input.js';
import { readAll } from '../../support/fixtures.js';
import { memoryOutput } from './helpers.js';
import { loadNative } from '../../../src/record/native.js';
import { expandCompressed, validatePerfetto } from '../../support/perfetto-validator.js';
import {
  buildDump,
  CALLS_AND_INSTANT,
  ENTER,
  EXIT,
  MESSY_CALLS,
  type RingSpec,
} from '../../support/ring-dump.js';

// A ring dump whose rings hold only calls is encoded from `CallRun`s (no event objects); the
// bytes must be exactly those the event path (ordering, nesting, `enter`/`exit`) writes.

async function encode(source: TraceSource, options: PerfettoWriteOptions): Promise<Buffer> {
  const mem = memoryOutput();
  await writePerfetto(source, mem.out, options);
  return mem.bytes();
}

/** The events a Perfetto trace reads back as, per thread in time order. */
async function readBack(buf: Buffer): Promise<Map<string, string[]>> {
  const path = join(mkdtempSync(join(tmpdir(), 'viz-runs-')), 'x.pftrace');
  writeFileSync(path, buf);
  const out = new Map<string, string[]>();
  for (const e of await readAll(readPerfetto(await openInput(path)))) {
    const key = `${e.pid}/${e.tid}`;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(`${e.ph} ${e.name} ${e.ts} ${e.args}`);
  }
  return out;
}

/**
 * The same dump converted through runs and through events only; both outputs and diagnostics.
 * Runs are encoded twice, with the addon's loop and in JavaScript only: the bytes must agree.
 */
async function both(bytes: Buffer, options: PerfettoWriteOptions = { compress: false }) {
  const runs = ringSourceFromBytes(bytes, 'x.vizdump');
  assert.ok(hasCallRuns(runs));
  const jsOnly = await encode(ringSourceFromBytes(bytes, 'x.vizdump'), { ...options, native: false });
  const plain = ringSourceFromBytes(bytes, 'x.vizdump');
  // withBatches hides batchesOrRuns: the writer takes the event path.
  const events = withBatches(plain, () => plain.batches());
  assert.ok(!hasCallRuns(events));
  const viaRuns = await encode(runs, options);
  assert.ok(viaRuns.equals(jsOnly), 'the native loop writes the bytes the JavaScript writes');
  return {
    viaRuns,
    viaEvents: await encode(events, options),
    runDiagnostics: runs.diagnostics.list(),
    eventDiagnostics: plain.diagnostics.list(),
  };
}

const FRAMES: Array<[number, string, number, number]> = Array.from({ length: 12 }, (_, i) => [
  i + 1,
  `fn${i}`,
  10 + i,
  3,
]);

function nested(tid: number, depth: number, step: number): RingSpec {
  const records: RingSpec['records'] = [];
  let t = 0;
  for (let d = 0; d < depth; d++) records.push([(t += step), 1 + (d % 12), ENTER]);
  for (let d = depth - 1; d >= 0; d--) records.push([(t += step), 1 + (d % 12), EXIT]);
  return { tid, name: `t${tid}`, capacity: 1 << 16, records };
}

describe('Perfetto from ring dumps: calls as columns', () => {
  it('writes most packets with the native loop when the addon is loaded', async () => {
    const addon = loadNative();
    assert.ok(addon?.encodeCalls, 'the addon (npm install builds it) has encodeCalls');
    const original = addon.encodeCalls;
    let written = 0;
    addon.encodeCalls = (...args: Parameters<typeof original>) => {
      const next = original(...args);
      written += next - args[3];
      return next;
    };
    try {
      const dump = buildDump([nested(2, 200, 11), nested(5, 100, 3)], FRAMES);
      const r = await both(dump);
      assert.deepEqual(validatePerfetto(r.viaRuns).violations, []);
    } finally {
      addon.encodeCalls = original;
    }
    // 600 calls; the first use of each of the 12 frames per thread goes the general way.
    assert.ok(written >= 550, `native loop wrote ${written} of 600 packets`);
  });

  it('reads back the same as the event path: orphans, skipped exits, frames open at the dump, several threads', async () => {
    const r = await both(buildDump([MESSY_CALLS, CALLS_AND_INSTANT, nested(9, 40, 7)], FRAMES));
    assert.deepEqual(validatePerfetto(r.viaRuns).violations, []);
    // Threads' packets interleave differently (the event path reorders through a window), so
    // sequence ids differ: compare what the traces read back as, thread by thread.
    const back = await readBack(r.viaRuns);
    assert.ok(back.size >= 3, [...back.keys()].join(' '));
    assert.deepEqual(back, await readBack(r.viaEvents));
    assert.deepEqual(r.runDiagnostics, r.eventDiagnostics);
  });

  it('one thread: the same bytes when timestamps cross many 2^28 ns boundaries and when names are re-interned', async () => {
    // 2 ticks per ns: steps of 2^29 ticks are 2^28 ns.
    const wide = nested(1, 30, 2 ** 29 + 12345);
    const last = wide.records.at(-1)![0];
    const records = [
      ...wide.records,
      ...nested(1, 300, 977).records.map(([t, a, k]) => [t + last, a, k] as [number, number, number]),
    ];
    const r = await both(buildDump([{ ...wide, records }], FRAMES), { compress: false, maxInterned: 5 });
    assert.deepEqual(validatePerfetto(r.viaRuns).violations, []);
    assert.ok(r.viaRuns.equals(r.viaEvents), 'same bytes');
  });

  it('one thread: the same bytes for calls nested deeper than Perfetto keeps (not written, counted)', async () => {
    const r = await both(buildDump([nested(3, 700, 5)], FRAMES));
    assert.ok(r.viaRuns.equals(r.viaEvents), 'same bytes');
    assert.deepEqual(r.runDiagnostics, r.eventDiagnostics);
    assert.ok(r.runDiagnostics.some((d) => d.code === 'slice_depth_truncated'));
    assert.deepEqual(validatePerfetto(r.viaRuns).violations, []);
  });

  it('one thread, compressed: the packets inside are the same', async () => {
    const long = nested(4, 200, 3);
    const records = [...long.records];
    for (let i = 0; i < 100; i++)
      records.push(
        ...nested(4, 200, 3).records.map(
          ([t, a, k]) => [t + (i + 1) * 2000, a, k] as [number, number, number],
        ),
      );
    const r = await both(buildDump([{ ...long, records }], FRAMES), { compress: true, flushBytes: 4096 });
    assert.ok(expandCompressed(r.viaRuns).equals(expandCompressed(r.viaEvents)), 'same packets');
    assert.deepEqual(validatePerfetto(r.viaRuns).violations, []);
  });
});
