import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  openRingDump,
  ringSourceFromBytes,
  sniff,
  type RingDumpReader,
} from '../../../src/formats/ring/reader.js';
import { loadNative } from '../../../src/record/native.js';
import { VizError } from '../../../src/model/errors.js';
import { parseArgs, type EventBatch, type TraceEvent } from '../../../src/model/event.js';
import {
  CALL_ENTER,
  CALL_EXIT_UNCLOSED,
  isCallRun,
  UNCLOSED_ARGS,
  type CallRun,
  type CallRunSource,
} from '../../../src/model/source.js';
import { readAll, tempDir } from '../../record/recorder-helpers.js';
import {
  buildDump,
  CALLS_AND_INSTANT,
  MESSY_CALLS,
  PID,
  REALTIME,
  type RingSpec,
} from '../../support/ring-dump.js';

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

/** The `B`/`E` events a list of items stands for (runs expanded), in order, with their thread. */
function expand(items: Array<EventBatch | CallRun>): string[] {
  const out: string[] = [];
  for (const item of items) {
    if (isCallRun(item)) {
      for (let i = 0; i < item.count; i++) {
        const k = item.kind[i]!;
        out.push(
          `${item.pid}/${item.tid} ${k === CALL_ENTER ? 'B' : 'E'} ${item.frames.name(item.frame[i]!)} @${item.ts[i]} ${k === CALL_EXIT_UNCLOSED ? UNCLOSED_ARGS : ''}`,
        );
      }
    } else
      for (const e of item)
        if (e.ph !== 'M') out.push(`${e.pid}/${e.tid} ${e.ph} ${e.name} @${e.ts} ${e.args}`);
  }
  return out;
}

/** A dump reader that hands out runs, decoding them with the addon's loop or in JavaScript. */
function runSource(bytes: Uint8Array, name: string, native: boolean): CallRunSource {
  const source = ringSourceFromBytes(bytes, name) as RingDumpReader;
  source.useNative = native;
  return source;
}

for (const native of [true, false])
  describe(`formats/ring reader: rings of calls only as CallRuns (${native ? 'native loop' : 'JavaScript only'})`, () => {
    if (native) {
      it('decodes with the addon when it is loaded', async () => {
        const addon = loadNative();
        assert.ok(
          addon?.decodeCalls && addon.callsInOrder,
          'the addon (npm install builds it) has both loops',
        );
        const original = addon.decodeCalls;
        const originalCheck = addon.callsInOrder;
        let calls = 0;
        let checks = 0;
        addon.decodeCalls = (...args: Parameters<typeof original>) => {
          calls++;
          original(...args);
        };
        addon.callsInOrder = (...args: Parameters<typeof originalCheck>) => {
          checks++;
          return originalCheck(...args);
        };
        try {
          for await (const _ of runSource(
            buildDump([MESSY_CALLS], FRAMES),
            'n.vizdump',
            true,
          ).batchesOrRuns());
        } finally {
          addon.decodeCalls = original;
          addon.callsInOrder = originalCheck;
        }
        assert.ok(calls > 0 && checks > 0);
      });
    }

    it('gives the same calls, times, names and diagnostics as batches()', async () => {
      const bytes = buildDump([MESSY_CALLS, CALLS_AND_INSTANT], FRAMES);
      const viaEvents = ringSourceFromBytes(bytes, 'a.vizdump');
      const events: EventBatch[] = [];
      for await (const b of viaEvents.batches()) events.push(b);
      const viaRuns = runSource(bytes, 'a.vizdump', native);
      const items: Array<EventBatch | CallRun> = [];
      for await (const item of viaRuns.batchesOrRuns()) {
        // Runs are only valid until the next item: keep copies.
        items.push(
          isCallRun(item)
            ? { ...item, kind: item.kind.slice(), frame: item.frame.slice(), ts: item.ts.slice() }
            : item,
        );
      }
      const runs = items.filter(isCallRun);
      assert.deepEqual(
        runs.map((r) => r.tid),
        [7],
        'the calls-only ring comes as a run, the other as events',
      );
      assert.deepEqual(expand(items), expand(events));
      assert.deepEqual(viaRuns.diagnostics.list(), viaEvents.diagnostics.list());
      assert.deepEqual(viaRuns.meta, viaEvents.meta);
      assert.ok(viaRuns.diagnostics.get('ring_orphan_exit'));
      assert.ok(viaRuns.diagnostics.get('ring_unbalanced'));
      assert.ok(viaRuns.diagnostics.get('ring_unclosed_at_dump'));
    });

    it('reads a ring whose times go backwards as events (the event path puts them in order)', async () => {
      const back: RingSpec = {
        tid: 3,
        name: 'main',
        capacity: 8,
        records: [
          [30, 1, B],
          [20, 2, B],
          [40, 2, E],
          [50, 1, E],
        ],
      };
      const source = runSource(buildDump([back], FRAMES), 'c.vizdump', native);
      const kinds: string[] = [];
      for await (const item of source.batchesOrRuns()) kinds.push(isCallRun(item) ? 'run' : 'events');
      assert.deepEqual(kinds, ['events', 'events']);
    });

    it("splits long rings into runs and keeps a truncated ring's complete records", async () => {
      const records: RingSpec['records'] = [];
      for (let i = 0; i < 150_000; i++) records.push([i * 3, 1 + (i % 2), i % 4 < 2 ? B : E]);
      const bytes = buildDump([{ tid: 1, name: 'main', capacity: 1 << 18, records }], FRAMES);
      for (const cut of [bytes.length, bytes.length - 1000]) {
        const part = bytes.subarray(0, cut);
        const events: EventBatch[] = [];
        const a = ringSourceFromBytes(part, 'b.vizdump');
        for await (const b of a.batches()) events.push(b);
        const b = runSource(part, 'b.vizdump', native);
        const items: string[] = [];
        let runs = 0;
        for await (const item of b.batchesOrRuns()) {
          if (isCallRun(item)) runs++;
          for (const line of expand([item])) items.push(line);
        }
        assert.ok(runs >= 2, `${runs} runs`);
        assert.deepEqual(items, expand(events));
        assert.deepEqual(b.diagnostics.list(), a.diagnostics.list());
      }
    });

    it('keeps stacks deeper than the first stack buffer, closing the open frames at the dump', async () => {
      const records: RingSpec['records'] = [];
      let t = 0;
      for (let d = 0; d < 3000; d++) records.push([(t += 2), 1 + (d % 2), B]);
      // An exit of a frame opened deep down closes the frames above it (ring_unbalanced).
      records.push([(t += 2), 1 + (1000 % 2), E]);
      for (let d = 0; d < 500; d++) records.push([(t += 2), 2, d % 2 === 0 ? B : E]);
      const bytes = buildDump([{ tid: 5, name: 'deep', capacity: 1 << 13, records }], FRAMES);
      const a = ringSourceFromBytes(bytes, 'd.vizdump');
      const events: EventBatch[] = [];
      for await (const batch of a.batches()) events.push(batch);
      const b = runSource(bytes, 'd.vizdump', native);
      const items: string[] = [];
      for await (const item of b.batchesOrRuns()) {
        assert.ok(isCallRun(item) || item.every((e) => e.ph === 'M'));
        for (const line of expand([item])) items.push(line);
      }
      assert.equal(items.length, expand(events).length);
      assert.deepEqual(items, expand(events));
      assert.deepEqual(b.diagnostics.list(), a.diagnostics.list());
      assert.ok(b.diagnostics.get('ring_unbalanced'));
    });
  });
