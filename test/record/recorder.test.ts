import { strict as assert } from 'node:assert';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadNative } from '../../src/record/native.js';
import { readRingSummary, type RingThreadSummary } from '../../src/formats/ring/reader.js';
import { extraField, parseArgs, type TraceEvent } from '../../src/model/event.js';
import { readDump, runAndSignal, runDriver, shape, tempDir } from './recorder-helpers.js';

function fibShape(n: number, out: string[] = []): string[] {
  out.push('B fib');
  if (n >= 2) {
    fibShape(n - 1, out);
    fibShape(n - 2, out);
  }
  out.push('E fib');
  return out;
}

/** What every scenario records before it diverges. */
const PROLOGUE = ['B main', ...fibShape(5), 'i tick', 'C tick'];

function assertMonotonicPerThread(events: TraceEvent[]): void {
  const last = new Map<unknown, number>();
  for (const e of events) {
    const prev = last.get(e.tid) ?? -Infinity;
    assert.ok(e.ts >= prev, `ts went back on thread ${e.tid}: ${prev} -> ${e.ts}`);
    last.set(e.tid, e.ts);
  }
}

function unclosed(events: TraceEvent[]): string[] {
  return events
    .filter((e) => e.ph === 'E' && parseArgs(e).unclosed === true)
    .map((e) => e.name.replace(/ \(.*\)$/, ''));
}

describe('record/runtime recorder (native)', function () {
  this.timeout(120000);
  const dir = tempDir();

  it('loads the addon with its V8 fast API entry points', () => {
    const addon = loadNative();
    assert.ok(addon, 'native addon did not load (npm install builds it)');
    assert.equal(addon.hasFastApi, true);
  });

  it('round-trips a known call sequence, with frame names and locations', async () => {
    const path = join(dir, 'normal.vizdump');
    const r = runDriver('normal', path);
    assert.equal(r.status, 0, r.stderr);
    const { source, events } = await readDump(path);
    assert.deepEqual(shape(events), [...PROLOGUE, 'E main']);
    assert.equal(events[0]!.name, 'main (/app/driver.js:1:1)');
    assert.equal(events[1]!.name, 'fib (/app/driver.js:10:3)');
    const counter = events.find((e) => e.ph === 'C')!;
    assert.deepEqual(parseArgs(counter), { value: -42 });
    assert.equal(
      extraField(
        events.find((e) => e.ph === 'i')!,
        's',
      ),
      't',
    );
    assertMonotonicPerThread(events);
    assert.equal(source.diagnostics.count(), 0, JSON.stringify(source.diagnostics.list()));
    const pid = events[0]!.pid;
    assert.equal(events[0]!.tid, pid, 'main thread tid is the pid');
    assert.match(source.meta.processNames.get(pid)!, /driver\.mts/);
    assert.ok(source.meta.baseUs > 1.6e15, 'baseUs is wall-clock µs');
  });

  it('counts exactly the events the ring overwrote', async () => {
    const path = join(dir, 'wrap.vizdump');
    const r = runDriver('wrap', path, { env: { VIZ_CAPACITY: '64' } });
    assert.equal(r.status, 0, r.stderr);
    const { source, events } = await readDump(path);
    // 34 prologue events + 2 * 465 calls of fib(12) + 1 exit of main.
    const total = PROLOGUE.length + fibShape(12).length + 1;
    const lost = source.diagnostics.get('ring_overwritten');
    assert.equal(lost?.severity, 'data_loss');
    assert.equal(lost?.count, total - 64);
    // The kept part starts inside fib(12): its exits whose enters were
    // overwritten (and the exit of main) are dropped and counted.
    const orphans = source.diagnostics.get('ring_orphan_exit')?.count ?? 0;
    assert.ok(orphans > 0);
    assert.equal(events.length + orphans, 64);
    assert.deepEqual(shape(events).slice(-2), ['E fib', 'E fib']);
    assert.equal(source.diagnostics.get('ring_unclosed_at_dump'), undefined);
    const summary = await readRingSummary(path);
    assert.deepEqual(
      (summary.meta.topLevel.threads as RingThreadSummary[]).map((t) => [
        t.name,
        t.capacity,
        t.written,
        t.kept,
        t.overwritten,
      ]),
      [['main', 64, total, 64, total - 64]],
    );
  });

  it('records exactly what optimized code passes through the fast calls', async () => {
    const path = join(dir, 'hot.vizdump');
    const r = runDriver('hot', path, { env: { VIZ_CAPACITY: String(1 << 20) } });
    assert.equal(r.status, 0, r.stderr);
    const [, iterations, fastCalls] = /iterations (\d+) fastCalls (\d+)/.exec(r.stdout)!.map(Number);
    assert.ok(fastCalls! >= 200_000, `only ${fastCalls} fast calls`);
    const { events } = await readDump(path);
    // The newest 5 * 1000 events before `E main`: the last 1000 iterations, in order.
    const tail = events.slice(-1 - 5 * 1000, -1);
    for (let k = 0; k < 1000; k++) {
      const i = iterations! - 999 + k;
      const chunk = tail.slice(k * 5, k * 5 + 5);
      assert.deepEqual(shape(chunk), ['B spin', 'B fib', 'C tick', 'E fib', 'E spin']);
      assert.equal(chunk[2]!.args, `{"value":${i % 2 === 0 ? i : -i}}`);
    }
  });

  it('converts ticks to ns on the CLOCK_MONOTONIC scale', async () => {
    const path = join(dir, 'sleep.vizdump');
    const r = runDriver('sleep', path);
    assert.equal(r.status, 0, r.stderr);
    const slept = Number(/slept (\d+)/.exec(r.stdout)![1]);
    const { events } = await readDump(path);
    const b = events.find((e) => e.ph === 'B' && e.name.startsWith('spin'))!;
    const e = events.find((x) => x.ph === 'E' && x.name.startsWith('spin'))!;
    const recorded = e.ts - b.ts;
    assert.ok(recorded <= slept, `recorded ${recorded} ns > measured around it ${slept} ns`);
    assert.ok(recorded > slept * 0.99 - 1e6, `recorded ${recorded} ns, hrtime ${slept} ns`);
    assertMonotonicPerThread(events);
  });

  const exits: Array<{ scenario: string; nodeArgs?: string[]; signal?: number; open: string[] }> = [
    { scenario: 'process-exit', open: ['crash', 'main'] },
    { scenario: 'throw', open: ['main'] },
    { scenario: 'reject', open: ['main'] },
    { scenario: 'oom', nodeArgs: ['--max-old-space-size=20'], signal: 6, open: ['crash', 'main'] },
    { scenario: 'sigsegv-kill', signal: 11, open: ['crash', 'main'] },
    { scenario: 'sigsegv-fault', signal: 11, open: ['crash', 'main'] },
  ];
  for (const t of exits) {
    it(`dumps on ${t.scenario} and exits as the untraced program does`, async () => {
      const path = join(dir, `${t.scenario}.vizdump`);
      const traced = runDriver(t.scenario, path, { nodeArgs: t.nodeArgs });
      const untraced = runDriver(t.scenario, join(dir, 'unused.vizdump'), {
        nodeArgs: t.nodeArgs,
        env: { VIZ_UNTRACED: '1' },
      });
      assert.deepEqual([traced.status, traced.signal], [untraced.status, untraced.signal], traced.stderr);
      assert.ok(traced.status !== 0 || traced.signal !== null, 'the scenario must fail');
      const { source, events } = await readDump(path);
      assert.deepEqual(shape(events).slice(0, PROLOGUE.length), PROLOGUE);
      assert.deepEqual(unclosed(events), t.open);
      assert.equal(source.meta.topLevel.signal, t.signal ?? 0);
      assertMonotonicPerThread(events);
    });
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`dumps on ${signal} and then dies by it, like the untraced program`, async () => {
      const path = join(dir, `${signal}.vizdump`);
      const traced = await runAndSignal('signal', path, signal);
      const untraced = await runAndSignal('signal', join(dir, 'unused.vizdump'), signal, {
        env: { VIZ_UNTRACED: '1' },
      });
      assert.equal(untraced.signal, signal);
      assert.deepEqual([traced.status, traced.signal], [untraced.status, untraced.signal]);
      // The spinning part wraps the ring: only its end is kept.
      const { source, events } = await readDump(path);
      assert.ok(
        events.some((e) => e.name.startsWith('spin')),
        'recorded the spinning part',
      );
      assert.equal(source.diagnostics.get('truncated_input'), undefined);
      assert.equal(source.meta.topLevel.signal, signal === 'SIGINT' ? 2 : 15);
    });
  }

  it("keeps a program's own SIGINT listener working (dump, then the listener runs)", async () => {
    const path = join(dir, 'listener.vizdump');
    const traced = await runAndSignal('signal-listener', path, 'SIGINT');
    const untraced = await runAndSignal('signal-listener', join(dir, 'unused.vizdump'), 'SIGINT', {
      env: { VIZ_UNTRACED: '1' },
    });
    assert.deepEqual([untraced.status, untraced.signal], [7, null]);
    assert.deepEqual([traced.status, traced.signal], [7, null], traced.stderr);
    assert.match(traced.stdout, /program saw SIGINT/);
    const { events } = await readDump(path); // rewritten by the exit dump
    assert.ok(
      events.some((e) => e.name.startsWith('spin')),
      'recorded the spinning part',
    );
  });

  it('still dumps and dies by SIGINT after the program removed its listener', async () => {
    const path = join(dir, 'removed.vizdump');
    const traced = await runAndSignal('signal-listener-removed', path, 'SIGINT');
    const untraced = await runAndSignal('signal-listener-removed', join(dir, 'unused.vizdump'), 'SIGINT', {
      env: { VIZ_UNTRACED: '1' },
    });
    assert.deepEqual([traced.status, traced.signal], [untraced.status, untraced.signal]);
    assert.equal(traced.signal, 'SIGINT');
    const { source } = await readDump(path);
    assert.equal(source.meta.topLevel.signal, 2);
  });

  it('writes numbered dumps on SIGUSR2 and keeps running', async () => {
    const sub = join(tempDir(), 'usr2.vizdump');
    const r = runDriver('usr2', sub);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /still running after SIGUSR2/);
    const base = sub.slice(0, -'.vizdump'.length);
    const sizes: number[] = [];
    for (const p of [`${base}.1.vizdump`, `${base}.2.vizdump`, sub]) {
      assert.ok(existsSync(p), `${p} missing`);
      const { source, events } = await readDump(p);
      assert.deepEqual(shape(events).slice(0, PROLOGUE.length), PROLOGUE);
      assert.equal(source.diagnostics.get('truncated_input'), undefined);
      sizes.push(events.length);
    }
    assert.ok(sizes[0]! < sizes[1]! && sizes[1]! < sizes[2]!, `each dump has more: ${sizes.join(', ')}`);
  });

  it('gives a worker thread its own ring and name', async () => {
    const path = join(dir, 'worker.vizdump');
    const r = runDriver('worker', path);
    assert.equal(r.status, 0, r.stderr);
    const { source, events } = await readDump(path);
    const tids = [...new Set(events.map((e) => e.tid))];
    assert.equal(tids.length, 2);
    const workerEvents = events.filter((e) => e.tid !== events[0]!.pid);
    assert.deepEqual(shape(workerEvents), [
      'B workerTask',
      'E workerTask',
      'B workerTask',
      'E workerTask',
      'B workerTask',
      'E workerTask',
    ]);
    assert.deepEqual([...source.meta.threadNames.values()].sort(), ['crunch', 'main']);
    assert.deepEqual(shape(events.filter((e) => e.tid === events[0]!.pid)), [...PROLOGUE, 'E main']);
  });
});

describe('record/runtime recorder (JavaScript fallback)', function () {
  this.timeout(120000);
  const dir = tempDir();

  it('records the same sequence when the addon is forced off, with one warning', async () => {
    const path = join(dir, 'js.vizdump');
    const r = runDriver('normal', path, { env: { VIZ_NO_NATIVE: '1' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.match(/native recorder unavailable/g)?.length, 1, r.stderr);
    const { source, events } = await readDump(path);
    assert.deepEqual(shape(events), [...PROLOGUE, 'E main']);
    assert.equal(source.meta.topLevel.clock, 'monotonic');
    assertMonotonicPerThread(events);
    assert.equal(source.diagnostics.count(), 0);
  });

  it('counts overwritten events exactly', async () => {
    const path = join(dir, 'wrap.vizdump');
    const r = runDriver('wrap', path, { env: { VIZ_NO_NATIVE: '1', VIZ_CAPACITY: '64' } });
    assert.equal(r.status, 0, r.stderr);
    const { source } = await readDump(path);
    assert.equal(
      source.diagnostics.get('ring_overwritten')?.count,
      PROLOGUE.length + fibShape(12).length + 1 - 64,
    );
  });

  it('dumps on uncaught exceptions and SIGTERM with the untraced exit status', async () => {
    const path = join(dir, 'throw.vizdump');
    const r = runDriver('throw', path, { env: { VIZ_NO_NATIVE: '1' } });
    assert.equal(r.status, 1);
    assert.deepEqual(unclosed((await readDump(path)).events), ['main']);
    const sigPath = join(dir, 'term.vizdump');
    const s = await runAndSignal('signal', sigPath, 'SIGTERM', { env: { VIZ_NO_NATIVE: '1' } });
    assert.equal(s.signal, 'SIGTERM');
    assert.ok((await readDump(sigPath)).events.some((e) => e.name.startsWith('spin')));
  });

  it('writes a worker ring to its own file', async () => {
    const sub = tempDir();
    const path = join(sub, 'w.vizdump');
    const r = runDriver('worker', path, { env: { VIZ_NO_NATIVE: '1' } });
    assert.equal(r.status, 0, r.stderr);
    const files = readdirSync(sub).sort();
    assert.equal(files.length, 2, files.join(' '));
    const workerFile = files.find((f) => /^w\.t\d+\.vizdump$/.test(f));
    assert.ok(workerFile, files.join(' '));
    const { events, source } = await readDump(join(sub, workerFile));
    assert.equal(events.length, 6);
    assert.deepEqual([...source.meta.threadNames.values()], ['crunch']);
  });
});
