/**
 * `viz record` across async code, worker threads and child processes, through the built CLI:
 * async spans per activation, named worker tracks, child processes merged into one trace on one
 * time axis, and the source and slice filters.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openRingDump, type RingProcessSummary } from '../../src/formats/ring/reader.js';
import type { TraceEvent } from '../../src/model/event.js';
import { parseDuration } from '../../src/record/index.js';
import {
  countByName,
  readTrace,
  requireBuild,
  runPlain,
  runViz,
  SAMPLES,
  tempDir,
  type Run,
} from './record-helpers.js';

let dir: string;

before(() => {
  requireBuild();
  dir = tempDir();
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function events(path: string): Promise<{ events: TraceEvent[]; processes: RingProcessSummary[] }> {
  const source = openRingDump(path);
  const all: TraceEvent[] = [];
  for await (const b of source.batches()) all.push(...b);
  return { events: all, processes: source.meta.topLevel.processes as RingProcessSummary[] };
}

const fn = (e: TraceEvent) => e.name.replace(/ \(.*\)$/, '');

/** Traced and untraced runs behave the same; returns the traced run and its output. */
function both(
  sample: string,
  args: string[],
  vizArgs: string[] = [],
  ext = '.vizdump',
): { traced: Run; out: string } {
  const out = join(dir, `${sample.replace(/[/.]/g, '_')}${vizArgs.join('_').replace(/[^\w]/g, '')}${ext}`);
  const plain = runPlain(sample, args);
  const traced = runViz([...vizArgs, '-o', out, join(SAMPLES, sample), ...args]);
  assert.equal(traced.stdout, plain.stdout, `stdout differs; viz stderr:\n${traced.stderr}`);
  assert.equal(traced.status, plain.status, `exit status differs; viz stderr:\n${traced.stderr}`);
  return { traced, out };
}

describe('viz record: async spans', function () {
  this.timeout(120000);

  it('async/http-server.js: one async span per request handler, its resumptions inside it', async () => {
    const { out } = both('async/http-server.js', ['4']);
    const { events: evs } = await events(out);
    const spans = new Map<string, { b?: TraceEvent; e?: TraceEvent }>();
    for (const e of evs) {
      if (e.ph !== 'b' && e.ph !== 'e') continue;
      assert.equal(e.cat, 'async');
      const s = spans.get(e.id) ?? {};
      s[e.ph] = e;
      spans.set(e.id, s);
    }
    const handlers = [...spans.values()].filter((s) => s.b && fn(s.b) === 'handleRequest');
    assert.equal(handlers.length, 4, 'one span per request');
    for (const s of handlers) assert.ok(s.e && s.e.ts >= s.b!.ts, 'every handler span ends after it begins');
    // Each handler activation runs 3 slices: the call, after lookup, after render. Every slice of
    // handleRequest lies inside one of the spans; the spans overlap (the requests are concurrent).
    const slices = evs.filter((e) => e.ph === 'B' && fn(e) === 'handleRequest');
    assert.equal(slices.length, 3 * 4);
    for (const sl of slices) {
      assert.ok(
        handlers.some((s) => s.b!.ts <= sl.ts && sl.ts <= s.e!.ts),
        `slice at ${sl.ts} is inside a handleRequest span`,
      );
    }
    const sorted = handlers.map((s) => [s.b!.ts, s.e!.ts] as const).sort((a, b) => a[0] - b[0]);
    assert.ok(sorted[1]![0] < sorted[0]![1], 'two requests were in flight at once');
    // lookup and render (awaited by the handler) are spans of their own, nested in time.
    const names = [...spans.values()].map((s) => fn(s.b!));
    assert.equal(names.filter((n) => n === 'lookup').length, 4);
    assert.equal(names.filter((n) => n === 'render').length, 4);
    // Promise callbacks (the `.catch` arrow is never called; the listen/close arrows are) are slices.
    assert.ok(evs.some((e) => e.ph === 'B' && fn(e) === '<anonymous>'));
  });

  it('async/promise-callbacks.js: then/catch/finally callbacks are ordinary slices with their names', async () => {
    const { out } = both('async/promise-callbacks.js', []);
    assert.deepEqual(countByName(await readTrace(out)), {
      onValue: 1,
      fail: 1,
      onError: 1,
      cleanup: 1,
      '<anonymous>': 2,
    });
  });

  it('generators.js and async.js keep balanced spans (every b has its e)', async () => {
    for (const sample of ['generators.js', 'async.js']) {
      const { out } = both(sample, []);
      const { events: evs } = await events(out);
      const b = evs.filter((e) => e.ph === 'b').map((e) => e.id);
      const e = evs.filter((x) => x.ph === 'e').map((x) => x.id);
      assert.ok(b.length > 0, `${sample}: spans recorded`);
      assert.deepEqual([...e].sort(), [...new Set(e)].sort(), `${sample}: one end per span`);
      for (const id of e) assert.ok(b.includes(id), `${sample}: end ${id} has its begin`);
    }
  });
});

describe('viz record: worker threads', function () {
  this.timeout(120000);

  it('workers/pool.js: each worker has its own thread track, named, on the main clock', async () => {
    const { out } = both('workers/pool.js', []);
    const { events: evs } = await events(out);
    const names = evs
      .filter((e) => e.ph === 'M' && e.name === 'thread_name')
      .map((e) => (JSON.parse(e.args) as { name: string }).name);
    assert.deepEqual(names.map((n) => n.replace(/ #\d+$/, '')).sort(), ['main', 'pool-1', 'pool-2']);
    // fib(10..15) computed in the workers: 177 + 287 + 465 + 753 + 1219 + 1973 calls.
    assert.equal(
      evs.filter((e) => e.ph === 'B' && fn(e) === 'fib').length,
      177 + 287 + 465 + 753 + 1219 + 1973,
    );
    // Same clock: the workers' first events come after the main thread's first (which started them).
    const main = evs.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args.includes('"main"'))!.tid;
    const first = (pred: (e: TraceEvent) => boolean) =>
      Math.min(...evs.filter((e) => e.ph === 'B' && pred(e)).map((e) => e.ts));
    assert.ok(first((e) => e.tid !== main) > first((e) => e.tid === main));
  });

  it('workers/pool.js with the JavaScript recorder: terminated workers dump their rings first', async () => {
    const out = join(dir, 'pool-js.vizdump');
    const plain = runPlain('workers/pool.js');
    const traced = runViz(['-o', out, join(SAMPLES, 'workers/pool.js')], { env: { VIZ_NO_NATIVE: '1' } });
    assert.equal(traced.stdout, plain.stdout, traced.stderr);
    const { events: evs, processes } = await events(out);
    assert.equal(processes.length, 1);
    assert.equal(
      evs.filter((e) => e.ph === 'B' && fn(e) === 'fib').length,
      177 + 287 + 465 + 753 + 1219 + 1973,
    );
  });

  it('worker.js with the JavaScript recorder: the worker ring is dumped by its thread and merged', async () => {
    const out = join(dir, 'worker-js.vizdump');
    const plain = runPlain('worker.js');
    const traced = runViz(['-o', out, join(SAMPLES, 'worker.js')], { env: { VIZ_NO_NATIVE: '1' } });
    assert.equal(traced.stdout, plain.stdout, traced.stderr);
    const { events: evs } = await events(out);
    const names = evs
      .filter((e) => e.ph === 'M' && e.name === 'thread_name')
      .map((e) => (JSON.parse(e.args) as { name: string }).name);
    assert.deepEqual(
      names.map((n) => n.replace(/ #\d+$/, '')),
      ['main', 'worker.js'],
    );
    assert.equal(evs.filter((e) => e.ph === 'B' && fn(e) === 'fib').length, 1973 + 177);
  });
});

describe('viz record: child processes', function () {
  this.timeout(120000);

  it('follow/fork-tree.js: two forked children and a grandchild (custom env) merged, one clock', async () => {
    const { traced, out } = both('follow/fork-tree.js', []);
    assert.match(traced.stderr, / in 4 processes /);
    const { events: evs, processes } = await events(out);
    const names = processes.map((p) => p.name).sort();
    assert.deepEqual(names, [
      'node fork-tree.js',
      'node fork-tree.js child a',
      'node fork-tree.js child b',
      'node fork-tree.js grandchild',
    ]);
    const byName = new Map(processes.map((p) => [p.name, p]));
    const root = byName.get('node fork-tree.js')!;
    const b = byName.get('node fork-tree.js child b')!;
    assert.equal(byName.get('node fork-tree.js child a')!.ppid, root.pid);
    assert.equal(b.ppid, root.pid);
    assert.equal(byName.get('node fork-tree.js grandchild')!.ppid, b.pid);
    // process_name M events carry the name and the parent pid
    const pn = evs.filter((e) => e.ph === 'M' && e.name === 'process_name');
    assert.equal(pn.length, 4);
    assert.deepEqual(JSON.parse(pn.find((e) => e.pid === b.pid)!.args), { name: b.name, ppid: root.pid });
    // Each child's first event comes after the parent's call that forked it, on one time axis.
    const firstOf = (pid: number) =>
      Math.min(...evs.filter((e) => e.pid === pid && e.ph === 'B').map((e) => e.ts));
    const forkCalls = evs
      .filter((e) => e.pid === root.pid && e.ph === 'B' && fn(e) === 'forkChild')
      .map((e) => e.ts);
    assert.equal(forkCalls.length, 2);
    for (const p of processes.filter((p) => p.ppid === root.pid))
      assert.ok(firstOf(p.pid) > Math.min(...forkCalls));
    const spawnCall = evs.find((e) => e.pid === b.pid && e.ph === 'B' && fn(e) === 'runGrandchild')!;
    assert.ok(firstOf(byName.get('node fork-tree.js grandchild')!.pid) > spawnCall.ts);
    // every process's functions are there
    const trace = await readTrace(out);
    assert.equal(countByName(trace).fib, 177 + 465 + 753 + 287);
  });

  it('--no-follow: only the first process is traced', async () => {
    const { traced, out } = both('follow/fork-tree.js', [], ['--no-follow']);
    assert.doesNotMatch(traced.stderr, / in \d+ processes/);
    const { processes } = await events(out);
    assert.deepEqual(
      processes.map((p) => p.name),
      ['node fork-tree.js'],
    );
  });

  it('follow/killed-child.js: a SIGKILLed child loses its events, says so; the parent is kept', async () => {
    const { traced, out } = both('follow/killed-child.js', []);
    assert.match(traced.stderr, /1 traced process\(es\) left no dump \(killed by SIGKILL/);
    const { processes } = await events(out);
    assert.deepEqual(
      processes.map((p) => p.name),
      ['node killed-child.js'],
    );
    assert.equal(countByName(await readTrace(out)).work, 67);
  });

  it('-o trace.json: one process group per process, named, in the Chrome trace', () => {
    const { out } = both('follow/fork-tree.js', [], [], '.json');
    const doc = JSON.parse(readFileSync(out, 'utf8')) as {
      traceEvents: Array<{ ph: string; name: string; pid: number; args?: { name?: string } }>;
    };
    const groups = doc.traceEvents
      .filter((e) => e.ph === 'M' && e.name === 'process_name')
      .map((e) => e.args!.name);
    assert.equal(groups.length, 4);
    assert.equal(new Set(doc.traceEvents.filter((e) => e.ph === 'B').map((e) => e.pid)).size, 4);
  });
});

describe('viz record: exits', function () {
  this.timeout(120000);

  it('exit-in-exit.js: an exit listener calling process.exit() (tape) still leaves the dump', async () => {
    const { traced, out } = both('exit-in-exit.js', []);
    assert.equal(traced.status, 3);
    assert.deepEqual(countByName(await readTrace(out)), { work: 1, onExit: 1 });
  });
});

describe('viz record: filters', function () {
  this.timeout(120000);

  it('--exclude: matching files are not instrumented; --include: only matching files are', async () => {
    const ex = both('esm/app.mjs', [], ['--exclude', '**/lib.mjs']);
    const all = both('esm/app.mjs', []);
    const whereAll = new Set((await readTrace(all.out)).calls.map((c) => c.where.split(':')[0]));
    const whereEx = new Set((await readTrace(ex.out)).calls.map((c) => c.where.split(':')[0]));
    assert.ok([...whereAll].some((w) => w!.endsWith('lib.mjs')));
    assert.ok(![...whereEx].some((w) => w!.endsWith('lib.mjs')));
    assert.ok(whereEx.size > 0);
    const inc = both('esm/app.mjs', [], ['--include', 'samples/record/esm/lib.mjs']);
    const whereInc = new Set((await readTrace(inc.out)).calls.map((c) => c.where.split(':')[0]));
    assert.deepEqual(
      [...whereInc].map((w) => w!.replace(/.*\//, '')),
      ['lib.mjs'],
    );
  });

  it('--max-depth and --min-duration filter slices when converting', () => {
    const slices = (vizArgs: string[]) => {
      const { out } = both('fib.js', ['15'], vizArgs, '.json');
      const doc = JSON.parse(readFileSync(out, 'utf8')) as {
        traceEvents: Array<{ ph: string; ts: number; dur?: number }>;
      };
      return doc.traceEvents.filter((e) => e.ph === 'B' || e.ph === 'X').length;
    };
    const full = slices([]);
    assert.equal(full, 1 + 1973);
    assert.equal(slices(['--max-depth', '3']), 1 + 1 + 2); // main, fib(15), its two calls
    const long = slices(['--min-duration', '1s']);
    assert.equal(long, 0);
  });

  it('--stats prints the 10 functions with the most events', () => {
    const r = runViz(['--stats', '-o', join(dir, 'stats.vizdump'), join(SAMPLES, 'fib.js'), '12']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /the 2 functions with the most events:\n\s+930 {2}fib \(.*fib\.js:\d+:\d+\)\n\s+2 {2}main/,
    );
  });

  it('--sparse --function NAME: only the named functions are instrumented', async () => {
    const { out } = both(
      'classes.js',
      [],
      ['--sparse', '--function', 'Shape.get name', '--function', 'main'],
    );
    const counts = countByName(await readTrace(out));
    assert.deepEqual(Object.keys(counts).sort(), ['Shape.get name', 'main']);
    assert.equal(counts.main, 1);
    const bad = runViz(['--function', 'main', join(SAMPLES, 'fib.js'), '5']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--function applies to --sparse mode/);
    // --sparse alone instruments nothing (only the tracing API's traced() functions record)
    const none = both('classes.js', [], ['--sparse']);
    assert.deepEqual(countByName(await readTrace(none.out)), {});
  });

  it('parseDuration', () => {
    assert.equal(parseDuration('500'), 500);
    assert.equal(parseDuration('50us'), 50_000);
    assert.equal(parseDuration('1.5ms'), 1_500_000);
    assert.equal(parseDuration('2s'), 2e9);
    assert.throws(() => parseDuration('fast'), /not a duration/);
  });
});
