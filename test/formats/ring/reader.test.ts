import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openRingDump, ringSourceFromBytes, sniff } from '../../../src/formats/ring/reader.js';
import { VizError } from '../../../src/model/errors.js';
import { parseArgs, type TraceEvent } from '../../../src/model/event.js';
import { readAll, tempDir } from '../../record/recorder-helpers.js';

/** Builds a dump byte by byte from the schema (independently of both writers). */
interface RingSpec {
  tid: number;
  name: string;
  capacity: number;
  /** [ticks, a, kind, aux] in write order, oldest first: the dumped records. */
  records: [number, number, number, number?][];
  /** Write index when the dump started; default first + records.length. */
  before?: number;
  /** Index of the first dumped record; default 0. */
  first?: number;
  /** Write index after the records were written; default before. */
  after?: number;
  writerMayBeActive?: boolean;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}
function padTo(b: Buffer, m: number): Buffer {
  return Buffer.concat([b, Buffer.alloc((m - (b.length % m)) % m)]);
}
function section(type: number, body: Buffer): Buffer {
  return Buffer.concat([u32(type), u32(0), u64(body.length), body]);
}

const PID = 4242;
const START_TICKS = 1_000_000_000n;
const START_NS = 5_000_000_000n;
const REALTIME = 1_763_700_000_123_456_789n;

interface ProcessSpec {
  pid?: number;
  ppid?: number;
  /** CLOCK_MONOTONIC and realtime ns added to the defaults (a process that started later). */
  laterNs?: bigint;
  argv?: string[];
}

function buildDump(
  rings: RingSpec[],
  frames: Array<[id: number, name: string, line: number, col: number]>,
  proc: ProcessSpec = {},
): Buffer {
  // 2 ticks per ns: dump pair 10 s of ticks later = 5 s.
  const later = proc.laterNs ?? 0n;
  const header = Buffer.concat([
    Buffer.from('VIZDUMP\0', 'latin1'),
    Buffer.from([1, 0, 64, 0]),
    u32(1),
    u32(proc.pid ?? PID),
    u32(0),
    u64(START_TICKS),
    u64(START_NS + later),
    u64(START_TICKS + 10_000_000_000n),
    u64(START_NS + later + 5_000_000_000n),
    u64(REALTIME + later + (later > 0n ? 3n : 0n)), // a later process's wall clock is read a little apart
  ]);
  const argv = Buffer.from((proc.argv ?? ['node', '/app/main.js']).map((a) => `${a}\0`).join(''), 'utf8');
  const procSection = padTo(Buffer.concat([u32(argv.length), u32(proc.ppid ?? 0), argv]), 8);
  const file = Buffer.from('/app/main.js');
  const entries = [Buffer.concat([u32(1), u32(1), u32(file.length), padTo(file, 4)])];
  for (const [id, name, line, col] of frames) {
    const n = Buffer.from(name);
    entries.push(
      Buffer.concat([u32(2), u32(id), u32(1), u32(line), u32(col), u32(0), u32(n.length), padTo(n, 4)]),
    );
  }
  const parts = [header, section(1, procSection), section(2, padTo(Buffer.concat(entries), 8))];
  for (const r of rings) {
    const first = r.first ?? 0;
    const before = r.before ?? first + r.records.length;
    const name = Buffer.alloc(40);
    name.write(r.name);
    const records = r.records.map(([t, a, kind, aux = 0]) =>
      Buffer.concat([u64(START_TICKS + BigInt(t)), u32(a), u32(kind | (aux << 8))]),
    );
    const body = Buffer.concat([
      u32(r.tid),
      u32(0),
      u32(r.capacity),
      u32(16),
      u64(before),
      u64(first),
      u64(r.records.length),
      u32(r.writerMayBeActive ? 1 : 0),
      u32(0),
      name,
      ...records,
      u64(r.after ?? before),
      u64(0),
    ]);
    parts.push(section(3, body));
  }
  parts.push(section(0xffff, Buffer.alloc(0)));
  return Buffer.concat(parts);
}

const FRAMES: Array<[number, string, number, number]> = [
  [1, 'main', 1, 1],
  [2, 'work', 5, 3],
];
const B = 1;
const E = 2;

async function read(bytes: Buffer) {
  const source = ringSourceFromBytes(bytes, 'test.vizdump');
  const all = await readAll(source);
  // Names come as M events after each dump's rings; most tests look at the other events.
  return { source, events: all.filter((e) => e.ph !== 'M'), names: all.filter((e) => e.ph === 'M') };
}

const brief = (events: TraceEvent[]) => events.map((e) => `${e.ph} ${e.name} @${e.ts}`);

describe('formats/ring reader', () => {
  it('sniffs the magic', () => {
    assert.equal(sniff(buildDump([], FRAMES).subarray(0, 16)), true);
    assert.equal(sniff(Buffer.from('{"traceEvents":[]}')), false);
    assert.equal(sniff(Buffer.from('VIZ')), false);
  });

  it('reads a known sequence with names, ns timestamps, pid/tid and names', async () => {
    const bytes = buildDump(
      [
        {
          tid: 77,
          name: 'main',
          capacity: 8,
          records: [
            [0, 1, B],
            [20, 2, B],
            [30, 2, E],
            [40, 1, E],
          ],
        },
      ],
      FRAMES,
    );
    const { source, events } = await read(bytes);
    // baseUs = realtime µs; 456789 % 1000 = 789 ns offset; 2 ticks per ns.
    assert.equal(source.meta.baseUs, Number(REALTIME / 1000n));
    assert.deepEqual(brief(events), [
      'B main (/app/main.js:1:1) @789',
      'B work (/app/main.js:5:3) @799',
      'E work (/app/main.js:5:3) @804',
      'E main (/app/main.js:1:1) @809',
    ]);
    assert.deepEqual([events[0]!.pid, events[0]!.tid], [PID, 77]);
    assert.equal(source.meta.threadNames.get(`number:${PID}/number:77`), 'main');
    assert.equal(source.meta.processNames.get(PID), 'node main.js');
    assert.equal(source.diagnostics.count(), 0);
  });

  it('counts overwritten events, drops orphan exits and closes frames open at the dump', async () => {
    // Ring of 4 after 7 writes: indices 3..6 kept.
    const bytes = buildDump(
      [
        {
          tid: 1,
          name: 't',
          capacity: 4,
          before: 7,
          first: 3,
          records: [
            [30, 2, E],
            [40, 2, B],
            [50, 2, E],
            [60, 2, B],
          ],
        },
      ],
      FRAMES,
    );
    const { source, events } = await read(bytes);
    assert.deepEqual(
      events.map((e) => e.ph),
      ['B', 'E', 'B', 'E'],
    );
    assert.equal(source.diagnostics.get('ring_overwritten')?.count, 3);
    assert.equal(source.diagnostics.get('ring_orphan_exit')?.count, 1);
    assert.equal(source.diagnostics.get('ring_unclosed_at_dump')?.count, 1);
    const last = events[3]!;
    assert.deepEqual(parseArgs(last), { unclosed: true });
    assert.equal(last.ts, 789 + 5_000_000_000, 'closed at the dump time');
    assert.ok(source.diagnostics.hasDataLoss);
  });

  it('drops records rewritten while the dump was being written (trailer index)', async () => {
    // Dumped 3..6 of a ring of 4, but the writer reached index 9 meanwhile and
    // may be mid-record: indices below 9 + 1 - 4 = 6 are unreliable.
    const bytes = buildDump(
      [
        {
          tid: 1,
          name: 't',
          capacity: 4,
          before: 7,
          first: 3,
          after: 9,
          writerMayBeActive: true,
          records: [
            [30, 2, B],
            [40, 2, E],
            [50, 2, B],
            [60, 2, E],
          ],
        },
      ],
      FRAMES,
    );
    const { source, events } = await read(bytes);
    assert.equal(events.length, 0, brief(events).join());
    assert.equal(source.diagnostics.get('ring_overwritten')?.count, 6);
    assert.equal(source.diagnostics.get('ring_orphan_exit')?.count, 1);
  });

  it('closes inner frames when an exit skips them', async () => {
    const bytes = buildDump(
      [
        {
          tid: 1,
          name: 't',
          capacity: 8,
          records: [
            [0, 1, B],
            [1, 2, B],
            [2, 1, E],
          ],
        },
      ],
      FRAMES,
    );
    const { source, events } = await read(bytes);
    assert.deepEqual(
      events.map((e) => `${e.ph}${e.name[0]}`),
      ['Bm', 'Bw', 'Ew', 'Em'],
    );
    assert.equal(source.diagnostics.get('ring_unbalanced')?.severity, 'error');
  });

  it('reads instants and values', async () => {
    const bytes = buildDump(
      [
        {
          tid: 1,
          name: 't',
          capacity: 8,
          records: [
            [0, 2, 3],
            [2, 0xfffffff6, 4, 1],
          ],
        },
      ],
      FRAMES,
    );
    const { events } = await read(bytes);
    assert.deepEqual(
      events.map((e) => [e.ph, e.name, e.args]),
      [
        ['i', 'work', ''],
        ['C', 'main', '{"value":-10}'],
      ],
    );
  });

  it('yields every complete record of a truncated dump, with a warning', async () => {
    const records: [number, number, number][] = [];
    for (let i = 0; i < 10; i++) records.push([i * 2, 2, i % 2 === 0 ? B : E]);
    const whole = buildDump([{ tid: 1, name: 't', capacity: 16, records }], FRAMES);
    const ringStart = whole.length - 16 - (88 + 16 * 10 + 16) - 16;
    // Cut in the middle of the 8th record.
    const cut = whole.subarray(0, ringStart + 16 + 88 + 7 * 16 + 5);
    const { source, events } = await read(cut);
    assert.equal(events.filter((e) => e.args === '').length, 7);
    assert.equal(source.diagnostics.get('truncated_input')?.severity, 'data_loss');
  });

  it('refuses a file that is not a dump with a one-line VizError naming file and offset', async () => {
    const dir = tempDir();
    const path = join(dir, 'x.vizdump');
    writeFileSync(path, '{"traceEvents":[]}');
    await assert.rejects(readAll(openRingDump(path)), (err: unknown) => {
      assert.ok(err instanceof VizError);
      assert.equal(err.kind, 'badInput');
      assert.equal(err.message, `${path}: byte 0: not a viz ring dump (no VIZDUMP magic)`);
      return true;
    });
  });

  it('refuses an unknown version', async () => {
    const bytes = buildDump([], FRAMES);
    bytes.writeUInt16LE(9, 8);
    await assert.rejects(read(bytes), /byte 8: unsupported ring dump version 9/);
  });

  it('reads async span records as b/e pairs with a per-thread id', async () => {
    const bytes = buildDump(
      [
        {
          tid: 9,
          name: 'main',
          capacity: 16,
          records: [
            [0, 1, 5, 2], // async begin, span 1, frame 2
            [2, 2, B],
            [4, 2, E],
            [10, 2, B],
            [12, 2, E],
            [12, 1, 6, 2], // async end, span 1
          ],
        },
      ],
      FRAMES,
    );
    const { events, source } = await read(bytes);
    const spans = events.filter((e) => e.ph === 'b' || e.ph === 'e');
    assert.deepEqual(
      spans.map((e) => [e.ph, e.name, e.cat, e.id, e.tid]),
      [
        ['b', 'work (/app/main.js:5:3)', 'async', '"9.1"', 9],
        ['e', 'work (/app/main.js:5:3)', 'async', '"9.1"', 9],
      ],
    );
    assert.equal(events.filter((e) => e.ph === 'B').length, 2);
    assert.equal(source.diagnostics.count(), 0);
  });

  it('reads concatenated dumps of several processes on one time axis, with parents', async () => {
    const ring = (tid: number): RingSpec => ({
      tid,
      name: 'main',
      capacity: 8,
      records: [
        [0, 1, B],
        [20, 1, E],
      ],
    });
    const parent = buildDump([ring(100)], FRAMES, { pid: 100, ppid: 1 });
    // Started 1 ms later (monotonic), its own frame table and argv.
    const child = buildDump([ring(200)], [[1, 'childMain', 3, 1]], {
      pid: 200,
      ppid: 100,
      laterNs: 1_000_000n,
      argv: ['/usr/bin/node', '--stack-size=900', '/app/child.js', 'x', 'y'],
    });
    const { events, source, names } = await read(Buffer.concat([parent, child]));
    assert.deepEqual(
      names.map((e) => [e.name, e.pid, e.tid, e.args]),
      [
        ['process_name', 100, 0, '{"name":"node main.js","ppid":1}'],
        ['thread_name', 100, 100, '{"name":"main"}'],
        ['process_name', 200, 0, '{"name":"node child.js x y","ppid":100}'],
        ['thread_name', 200, 200, '{"name":"main"}'],
      ],
    );
    assert.deepEqual(brief(events), [
      'B main (/app/main.js:1:1) @789',
      'E main (/app/main.js:1:1) @799',
      'B childMain (/app/main.js:3:1) @1000789',
      'E childMain (/app/main.js:3:1) @1000799',
    ]);
    assert.deepEqual(
      events.map((e) => e.pid),
      [100, 100, 200, 200],
    );
    assert.equal(source.meta.processNames.get(100), 'node main.js');
    assert.equal(source.meta.processNames.get(200), 'node child.js x y');
    const procs = source.meta.topLevel.processes as Array<{ pid: number; ppid: number }>;
    assert.deepEqual(
      procs.map((p) => [p.pid, p.ppid]),
      [
        [100, 1],
        [200, 100],
      ],
    );
    assert.equal(source.diagnostics.count(), 0);
    // Garbage after the last dump is reported, not read as events.
    const bad = await read(Buffer.concat([parent, Buffer.from('junkjunk')]));
    assert.equal(bad.events.length, 2);
    assert.equal(bad.source.diagnostics.get('ring_trailing_bytes')?.count, 1);
  });

  it("reads a JavaScript-fallback worker's own dump (same pid) as another thread of the process", async () => {
    const ring = (tid: number, name: string): RingSpec => ({
      tid,
      name,
      capacity: 8,
      records: [
        [0, 1, B],
        [20, 1, E],
      ],
    });
    const main = buildDump([ring(100, 'main')], FRAMES, { pid: 100, ppid: 1 });
    const worker = buildDump([ring(0x40000001, 'w #1')], FRAMES, { pid: 100, ppid: 1, laterNs: 1000n });
    const { source, names } = await read(Buffer.concat([main, worker]));
    assert.equal((source.meta.topLevel.processes as unknown[]).length, 1);
    assert.deepEqual(
      names.map((e) => [e.name, e.tid]),
      [
        ['process_name', 0],
        ['thread_name', 100],
        ['thread_name', 0x40000001],
      ],
    );
  });

  it('reads the same events from a file as from memory', async () => {
    const bytes = buildDump(
      [
        {
          tid: 3,
          name: 'w',
          capacity: 8,
          records: [
            [0, 1, B],
            [4, 1, E],
          ],
        },
      ],
      FRAMES,
    );
    const path = join(tempDir(), 'same.vizdump');
    writeFileSync(path, bytes);
    const fromMemory = await read(bytes);
    assert.deepEqual(await readAll(openRingDump(path)), [...fromMemory.events, ...fromMemory.names]);
  });
});
