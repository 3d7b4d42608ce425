import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Diagnostics } from '../../src/model/diagnostics.js';
import { compareEvents, LateEventError, timeOrdered } from '../../src/model/order.js';
import { makeEvent, type TraceEvent } from '../../src/model/event.js';

/**
 * Events with small random displacements (and some equal timestamps), over a
 * few threads. Either all `X` or none: `compareEvents` orders ties between two
 * `X` by duration but an `X` and a `B` by input order, which is not transitive
 * when both kinds share a timestamp, so no single "full sort" would exist.
 */
function jittered(seed: number, n: number, threads: number, jitter: number): TraceEvent[] {
  const allX = (seed & 1) === 0;
  let s = seed >>> 0;
  const r = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  const evs: TraceEvent[] = [];
  for (let i = 0; i < n; i++) {
    const ts = Math.max(0, i * 10 + Math.floor((r() - 0.5) * 2 * jitter) * 10) - (r() < 0.2 ? 0 : 5);
    const ph = allX ? 'X' : r() < 0.5 ? 'B' : 'E';
    evs.push(
      makeEvent({
        ph,
        name: `e${i}`,
        ts,
        dur: ph === 'X' ? Math.floor(r() * 100) : -1,
        pid: 1,
        tid: 1 + Math.floor(r() * threads),
      }),
    );
  }
  return evs;
}

async function run(
  events: TraceEvent[],
  options: {
    window?: number;
    perThread?: boolean;
    batch?: number;
    external?: boolean;
    lateEvents?: 'count' | 'throw';
  },
): Promise<{ out: TraceEvent[]; diagnostics: Diagnostics }> {
  const diagnostics = new Diagnostics();
  const size = options.batch ?? 37;
  async function* input(): AsyncGenerator<TraceEvent[]> {
    for (let i = 0; i < events.length; i += size) yield events.slice(i, i + size);
  }
  const out: TraceEvent[] = [];
  for await (const b of timeOrdered(input(), {
    diagnostics,
    window: options.window,
    perThread: options.perThread,
    external: options.external,
    lateEvents: options.lateEvents,
  }))
    out.push(...b);
  return { out, diagnostics };
}

/** The reference order: a full stable sort by `compareEvents`. */
function sorted(events: TraceEvent[]): TraceEvent[] {
  return events
    .map((ev, seq) => ({ ev, seq }))
    .sort((a, b) => compareEvents(a.ev, a.seq, b.ev, b.seq))
    .map((t) => t.ev);
}

function perThread(events: TraceEvent[]): Map<string, TraceEvent[]> {
  const m = new Map<string, TraceEvent[]>();
  for (const e of events) {
    const k = `${e.pid}/${e.tid}`;
    const list = m.get(k);
    if (list) list.push(e);
    else m.set(k, [e]);
  }
  return m;
}

describe('timeOrdered', () => {
  it('local disorder: the windowed path gives exactly the full sort', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer(),
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom(64, 200, 1000),
        async (seed, jitter, window) => {
          const events = jittered(seed, 3000, 3, jitter);
          const { out, diagnostics } = await run(events, { window });
          if (diagnostics.get('late_event')) return;
          assert.deepEqual(out, sorted(events));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('perThread: every event once, each thread in exactly the full sort order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer(),
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom(64, 200, 100_000),
        fc.integer({ min: 1, max: 5 }),
        async (seed, jitter, window, threads) => {
          const events = jittered(seed, 3000, threads, jitter);
          const { out, diagnostics } = await run(events, { window, perThread: true });
          assert.equal(out.length, events.length);
          assert.equal(diagnostics.get('late_event'), undefined);
          assert.deepEqual(perThread(out), perThread(sorted(events)));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('perThread: heavy disorder within a thread falls back to a correct sort', async () => {
    // Reversed runs of 5,000 events: far beyond the insertion budget of each chunk.
    const events: TraceEvent[] = [];
    for (let run = 0; run < 4; run++)
      for (let i = 4999; i >= 0; i--)
        events.push(makeEvent({ ph: 'i', name: `${run}:${i}`, ts: run * 10_000 + i, tid: 1 }));
    const { out } = await run(events, { window: 20_000, perThread: true });
    assert.deepEqual(perThread(out), perThread(sorted(events)));
  });

  it('perThread: disorder that grows after the probe widens the window (no late events)', async () => {
    // Blocks opened by `B` (so not VizTracer order): a parent `X` written after its children.
    // 2,000 blocks of 10 children, then blocks of 20, 40, ... 10,240 children: the probe sees
    // moves of 10 and the window starts small; a fixed window would drop the later parents.
    const events: TraceEvent[] = [];
    let t = 0;
    const block = (children: number): void => {
      events.push(makeEvent({ ph: 'B', name: 'block', ts: t, tid: 1 }));
      const start = t + 1;
      for (let c = 0; c < children; c++)
        events.push(makeEvent({ ph: 'X', name: 'child', ts: start + 2 * c, dur: 1, tid: 1 }));
      events.push(makeEvent({ ph: 'X', name: 'parent', ts: start, dur: 2 * children, tid: 1 }));
      t = start + 2 * children + 1;
      events.push(makeEvent({ ph: 'E', ts: t++, tid: 1 }));
    };
    for (let k = 0; k < 2000; k++) block(10);
    for (let children = 20; children <= 10_240; children *= 2) block(children);
    const { out, diagnostics } = await run(events, { perThread: true, batch: 4096 });
    assert.equal(diagnostics.get('late_event'), undefined);
    assert.deepEqual(out, sorted(events));
  });

  it('perThread: an event later than the window is counted as late_event and still passed on', async () => {
    const events: TraceEvent[] = [];
    for (let i = 0; i < 50_000; i++) events.push(makeEvent({ ph: 'i', name: `e${i}`, ts: 100 + i, tid: 1 }));
    events.push(makeEvent({ ph: 'i', name: 'late', ts: 0, tid: 1 }));
    const { out, diagnostics } = await run(events, { window: 40_000, perThread: true, batch: 4096 });
    assert.equal(out.length, events.length);
    assert.equal(diagnostics.get('late_event')?.count, 1);
  });
});

describe('timeOrdered: input far out of order', () => {
  /**
   * `X` slices written when they end, each parent after its children, under one root written
   * last; `startup`: a `B`/`E` pair first, so the first events no longer look VizTracer's.
   */
  function endOrdered(n: number, startup = false): TraceEvent[] {
    const events: TraceEvent[] = [];
    if (startup) {
      events.push(makeEvent({ ph: 'B', name: 'startup', ts: 0, tid: 1 }));
      events.push(makeEvent({ ph: 'E', ts: 1, tid: 1 }));
    }
    for (let i = 0; i < n; i++) {
      const t = 10 + i * 100;
      events.push(makeEvent({ ph: 'X', name: `leaf${i}`, ts: t + 10, dur: 40, tid: 1 }));
      events.push(makeEvent({ ph: 'X', name: `call${i}`, ts: t, dur: 80, tid: 1 }));
    }
    events.push(makeEvent({ ph: 'X', name: 'root', ts: 0, dur: 20 + n * 100, tid: 1 }));
    return events;
  }

  it('external: the exact full sort, for any disorder, through files on disk', async () => {
    const events = endOrdered(30_000);
    const reversed = jittered(7, 20_000, 3, 5).reverse();
    for (const input of [events, reversed]) {
      for (const perThread of [false, true]) {
        const { out, diagnostics } = await run(input, {
          window: 5000,
          perThread,
          external: true,
          batch: 4096,
        });
        assert.equal(diagnostics.get('late_event'), undefined);
        assert.deepEqual(out, sorted(input));
      }
    }
  });

  it('perThread: input that starts in VizTracer order is sorted on disk from the start', async () => {
    const events = endOrdered(30_000);
    const { out, diagnostics } = await run(events, { perThread: true, batch: 4096 });
    assert.equal(diagnostics.get('late_event'), undefined);
    assert.equal(diagnostics.get('reordered_on_disk')?.severity, 'info');
    assert.deepEqual(out, sorted(events));
  });

  it("lateEvents 'throw': a root written after its 60,000 descendants stops the stream", async () => {
    const events = endOrdered(30_000, true);
    await assert.rejects(
      run(events, { perThread: true, lateEvents: 'throw', batch: 4096 }),
      (err: unknown) =>
        err instanceof LateEventError && /"root" \(X\) arrived after later events/.test(err.message),
    );
    // The same input under the default passes the root on in place, with an error.
    const { out, diagnostics } = await run(events, { perThread: true, batch: 4096 });
    assert.equal(out.length, events.length);
    assert.equal(diagnostics.get('late_event')?.count, 1);
  });
});

describe('timeOrdered: metadata written last', () => {
  for (const perThread of [false, true]) {
    it(`thread names after the events (as ring dumps write them) are not late events (perThread ${perThread})`, async () => {
      const events: TraceEvent[] = [];
      for (let i = 0; i < 50_000; i++)
        events.push(makeEvent({ ph: i % 2 ? 'E' : 'B', name: 'f', ts: i * 10, pid: 1, tid: 1 }));
      events.push(makeEvent({ ph: 'M', name: 'thread_name', pid: 1, tid: 1, args: '{"name":"main"}' }));
      const { out, diagnostics } = await run(events, { window: 2048, perThread, batch: 4096 });
      assert.equal(out.length, events.length);
      assert.equal(diagnostics.get('late_event'), undefined);
    });
  }
});
