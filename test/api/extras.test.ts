/**
 * Everything beyond calls, end to end: samples/api/extras.mjs uses every --log-* flag's subject
 * and every call of the tracing API; recorded with all the flags, converted to Chrome JSON and to
 * Perfetto, each event must be there with its name, values, thread and time order, and the
 * program's own output must be what it prints untraced.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openTrace } from '../../src/ops/open.js';
import type { TraceEvent } from '../../src/model/event.js';
import { readAll } from '../support/fixtures.js';
import { BIN, requireBuild, ROOT, tempDir } from '../record/record-helpers.js';
import * as api from '../../src/api/index.js';

const SAMPLE = join(ROOT, 'samples', 'api', 'extras.mjs');
const FLAGS = [
  '--log-args',
  '--log-return',
  '--log-exceptions',
  '--log-console',
  '--log-gc',
  '--log-event-loop',
  '--log-memory',
  '--log-interval',
  '10ms',
];

function env(): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.NODE_OPTIONS;
  return e;
}

function run(file: string, args: string[]) {
  const r = spawnSync(file, args, { cwd: ROOT, encoding: 'utf8', env: env() });
  if (r.error) throw r.error;
  return r;
}

interface Ev {
  ph: string;
  name: string;
  ts: number;
  tid: number | string;
  id: string;
  args: Record<string, unknown>;
  cat: string;
}

/**
 * Events without metadata, names without their source position, args parsed, in time order. A
 * counter sample with several series is one event (Perfetto keeps one track per series: its
 * samples at one time are merged back).
 */
function simplify(events: TraceEvent[]): Ev[] {
  const out = events
    .filter((e) => e.ph !== 'M')
    .map((e) => ({
      ph: e.ph,
      name: e.name.replace(/ \([^()]*:\d+:\d+\)$/, ''),
      ts: e.ts,
      tid: e.tid,
      id: e.id === '' ? '' : String(JSON.parse(e.id)),
      args: e.args === '' ? {} : (JSON.parse(e.args) as Record<string, unknown>),
      cat: e.cat,
    }))
    .sort((a, b) => a.ts - b.ts);
  const merged: Ev[] = [];
  for (const e of out) {
    const prev = merged.findLast((m) => m.ph === 'C' && m.name === e.name && m.ts === e.ts);
    if (e.ph === 'C' && prev) Object.assign(prev.args, e.args);
    else merged.push(e);
  }
  return merged;
}

function find(events: Ev[], ph: string, name: string, pred: (e: Ev) => boolean = () => true): Ev {
  const e = events.find((x) => x.ph === ph && x.name === name && pred(x));
  assert.ok(e, `no ${ph} "${name}" event matching ${pred.toString()}`);
  return e;
}

function inOrder(a: Ev, b: Ev): void {
  assert.ok(a.ts <= b.ts, `${a.ph} ${a.name} (${a.ts}) should come before ${b.ph} ${b.name} (${b.ts})`);
}

/** The checks both outputs must pass. `objects`: whether the format keeps N/O/D object events. */
function checkAll(events: Ev[], label: string): void {
  const main = find(events, 'B', 'main').tid;
  const onMain = (e: Ev) => e.tid === main;

  // instants with args and scope
  const begin = find(events, 'i', 'phase', (e) => (e.args as { step?: string }).step === 'begin');
  const end = find(events, 'i', 'phase', (e) => (e.args as { step?: string }).step === 'end');
  inOrder(begin, end);

  // counters: plain and the Counter object
  const work = events.filter((e) => e.ph === 'C' && e.name === 'work');
  assert.deepEqual(
    work.map((e) => e.args),
    [
      { done: 0, left: 3 },
      { done: 3, left: 0 },
    ],
    label,
  );
  assert.deepEqual(
    events.filter((e) => e.ph === 'C' && e.name === 'queue').map((e) => e.args),
    [{ pending: 2 }, { pending: 1 }],
    label,
  );

  // object snapshots: new, two snapshots, delete, one id
  const cache = events.filter((e) => e.name === 'cache' && 'NOD'.includes(e.ph));
  assert.deepEqual(
    cache.map((e) => [e.ph, e.args]),
    [
      ['N', {}],
      ['O', { snapshot: { size: 0 } }],
      ['O', { snapshot: { size: 3 } }],
      ['D', {}],
    ],
    label,
  );
  assert.equal(new Set(cache.map((e) => e.id)).size, 1, `${label}: one object id`);
  find(events, 'O', 'config', (e) => JSON.stringify(e.args) === '{"snapshot":{"mode":"demo"}}');

  // --log-args / --log-return
  const add = find(events, 'B', 'add', (e) => JSON.stringify(e.args) === '{"func_args":{"a":2,"b":3}}');
  const addEnd = events.find((e) => e.ph === 'E' && e.name === 'add' && e.ts >= add.ts);
  assert.deepEqual(addEnd?.args, { return_value: 5 }, label);
  find(events, 'B', 'Shape.perimeter', (e) => JSON.stringify(e.args) === '{"func_args":{"length":5}}');
  find(events, 'E', 'Shape.perimeter', (e) => JSON.stringify(e.args) === '{"return_value":20}');
  find(
    events,
    'B',
    'describe',
    (e) => JSON.stringify(e.args) === '{"func_args":{"value":{"a":1,"nested":{"deep":[1,2,3]}},"depth":2}}',
  );

  // --log-exceptions: thrown by the program, and thrown by V8 and caught
  const thrown = find(events, 'i', 'exception', (e) => (e.args as { how?: string }).how === 'thrown');
  assert.deepEqual(thrown.args, { how: 'thrown', error: { '@type': 'TypeError', message: 'odd: 1' } }, label);
  const caught = find(events, 'i', 'exception', (e) => (e.args as { how?: string }).how === 'caught');
  assert.equal((caught.args.error as { '@type': string })['@type'], 'SyntaxError');
  assert.equal(events.filter((e) => e.name === 'exception').length, 2, `${label}: one event per error`);

  // --log-console: the text, in order, on the main thread
  const texts = events.filter((e) => e.ph === 'i' && e.name.startsWith('console.'));
  assert.deepEqual(
    texts.filter(onMain).map((e) => [e.name, (e.args as { text: string }).text]),
    [
      ['console.log', 'sum 5'],
      ['console.log', 'perimeter 20'],
      ['console.error', 'caught odd: 1'],
      ['console.error', 'bad JSON: SyntaxError'],
      ['console.log', 'double 42'],
      ['console.log', 'churn 12800000'],
    ],
    label,
  );
  inOrder(begin, texts[0]!);
  inOrder(thrown, texts[2]!);

  // spans: a block with args, an async function (slice + async span)
  find(events, 'B', 'block', (e) => JSON.stringify(e.args) === '{"func_args":{"why":"demo"}}');
  find(events, 'E', 'block');
  const ab = find(events, 'b', 'async block');
  const ae = find(events, 'e', 'async block', (e) => e.id === ab.id);
  inOrder(ab, ae);
  assert.ok(ae.ts - ab.ts >= 4e6, `${label}: the async span covers the 5 ms sleep`);

  // stop()/start(): the call in between is not recorded, main ends at the stop
  assert.ok(!events.some((e) => e.name === 'add' && JSON.stringify(e.args).includes('100')), label);
  find(events, 'E', 'main', (e) => JSON.stringify(e.args) === '{"stopped":true}');
  find(events, 'B', 'double', (e) => JSON.stringify(e.args) === '{"func_args":{"x":21}}');

  // pino records as instants
  const log = find(events, 'i', 'log.info');
  assert.equal((log.args as { msg: string }).msg, 'hello from pino');
  assert.equal((log.args as { user: string }).user, 'ada');

  // --log-gc: slices on their own track
  // (Perfetto gives slices back as B/E pairs)
  const gc = events.filter((e) => (e.ph === 'X' || e.ph === 'B') && e.name.startsWith('GC: '));
  assert.ok(gc.length > 0, `${label}: no GC slices`);
  assert.ok(
    gc.every((e) => e.tid !== main && e.cat === 'gc'),
    `${label}: GC slices on the GC track`,
  );

  // --log-memory / --log-event-loop: several samples, plausible values
  const mem = events.filter((e) => e.ph === 'C' && e.name === 'memory');
  assert.ok(mem.length >= 3, `${label}: ${mem.length} memory samples`);
  for (const m of mem) {
    const a = m.args as { heapUsed: number; rss: number };
    assert.ok(a.heapUsed > 1e6 && a.rss > a.heapUsed, JSON.stringify(a));
  }
  const elu = events.filter((e) => e.ph === 'C' && e.name === 'event loop utilization');
  assert.ok(elu.length >= 3 && elu.every((e) => (e.args.utilization as number) >= 0), label);
  assert.ok(
    events.some((e) => e.ph === 'C' && e.name === 'event loop delay'),
    label,
  );
  for (const e of [begin, end, work[0]!, add, thrown, log]) assert.equal(e.tid, main, `${label}: ${e.name}`);
}

describe('viz record: everything beyond calls (samples/api/extras.mjs)', function () {
  this.timeout(120_000);
  const dir = tempDir();
  const dump = join(dir, 'extras.vizdump');
  const snapshotDump = join(dir, 'by-dump-call.vizdump');
  let plain: ReturnType<typeof run>;
  let traced: ReturnType<typeof run>;

  before(function () {
    requireBuild();
    plain = run(process.execPath, [SAMPLE]);
    traced = run(process.execPath, [BIN, 'record', ...FLAGS, '-o', dump, SAMPLE, snapshotDump]);
  });

  it("the program's output and exit status are unchanged", function () {
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(traced.status, 0, traced.stderr);
    assert.equal(traced.stdout, plain.stdout);
    const programErr = traced.stderr
      .split('\n')
      .filter((l) => !l.startsWith('viz record:'))
      .join('\n');
    assert.equal(programErr, plain.stderr);
  });

  for (const to of ['json', 'perfetto-trace']) {
    it(`every event is in the ${to === 'json' ? 'Chrome JSON' : 'Perfetto'} output`, async function () {
      const out = join(dir, `extras.${to}`);
      const c = run(process.execPath, [BIN, 'convert', dump, '-o', out]);
      assert.equal(c.status, 0, c.stderr);
      const { source } = await openTrace(out);
      checkAll(simplify(await readAll(source)), to);
    });
  }

  it('the ring dump itself reads back the same events', async function () {
    const { source } = await openTrace(dump);
    checkAll(simplify(await readAll(source)), 'vizdump');
  });

  it('dump(path) wrote the rings as they were at the call', async function () {
    assert.ok(existsSync(snapshotDump));
    const { source } = await openTrace(snapshotDump);
    const events = simplify(await readAll(source));
    find(events, 'i', 'phase', (e) => (e.args as { step?: string }).step === 'begin');
    assert.ok(!events.some((e) => e.name === 'phase' && (e.args as { step?: string }).step === 'end'));
  });

  it('--sparse with no --function records the traced() functions and the API spans only', async function () {
    const out = join(dir, 'sparse.json');
    const r = run(process.execPath, [BIN, 'record', '--sparse', '-o', out, SAMPLE]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, plain.stdout);
    const { source } = await openTrace(out);
    const slices = new Set(
      simplify(await readAll(source))
        .filter((e) => e.ph === 'B')
        .map((e) => e.name),
    );
    assert.deepEqual([...slices].sort(), ['async block', 'block', 'double']);
  });

  it('--paused: no call is recorded before start()', async function () {
    const out = join(dir, 'paused.json');
    const r = run(process.execPath, [BIN, 'record', '--paused', '-o', out, SAMPLE]);
    assert.equal(r.status, 0, r.stderr);
    const { source } = await openTrace(out);
    const events = simplify(await readAll(source));
    const firstCall = events.find((e) => e.ph === 'B');
    assert.equal(firstCall?.name, 'double', 'the first call recorded is the first after start()');
    find(events, 'i', 'phase'); // instants record while paused
  });
});

describe('the tracing API untraced', function () {
  it('every call is a no-op that passes values through', async function () {
    assert.equal(api.isTracing(), false);
    api.instant('x', { a: 1 });
    api.counter('c', { v: 1 });
    const c = new api.Counter('queue') as api.Counter & { n?: number };
    c.n = 3;
    assert.equal(c.n, 3);
    const o = new api.TracedObject('obj', { a: 1 }) as api.TracedObject & { a?: number };
    o.a = 2;
    assert.equal(o.a, 2);
    o.destroy();
    assert.equal(
      api.span('s', () => 42),
      42,
    );
    assert.equal(await api.span('s', async () => 43), 43);
    assert.throws(
      () =>
        api.span('s', () => {
          throw new Error('boom');
        }),
      /boom/,
    );
    const f = (x: number) => x + 1;
    assert.equal(api.traced(f), f);
    api.stop();
    api.start();
    assert.equal(api.dump('/nonexistent/x.vizdump'), 0);
    const lines: string[] = [];
    const dest = api.pinoDestination({ write: (l: string) => lines.push(l) });
    dest.write('{"level":30,"msg":"m"}\n');
    assert.deepEqual(lines, ['{"level":30,"msg":"m"}\n']);
  });
});
