import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readChrome } from '../../../src/formats/chrome/reader.js';
import { openInput } from '../../../src/io/input.js';
import { VizError } from '../../../src/model/errors.js';
import type { ArgsWanted } from '../../../src/model/source.js';
import { readPath, traceFixtures } from '../../support/fixtures.js';

// ReadOptions: a consumer that needs no categories and only some args gets the same events with
// those fields left empty; the skipped text is still checked.
describe('Chrome reader: fields a consumer does not need', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'viz-projection-'));

  for (const fx of traceFixtures()) {
    it(`${fx.name}: same events, args as asked, no categories`, async () => {
      const full = await readPath(fx.path, (i) => readChrome(i));
      const lean = async (args: ArgsWanted) =>
        readPath(fx.path, (i) => readChrome(i, { categoriesNeeded: false, args }));
      const metadata = await lean('metadata');
      const first = await lean('first-per-name');
      for (const r of [metadata, first]) {
        assert.equal(r.events.length, full.events.length);
        assert.equal(r.source.meta.baseUs, full.source.meta.baseUs);
        assert.deepEqual(r.source.diagnostics.list(), full.source.diagnostics.list());
      }
      const named = new Set<string>();
      full.events.forEach((f, i) => {
        const m = metadata.events[i]!;
        const p = first.events[i]!;
        assert.equal(m.cat, '');
        assert.deepEqual({ ...m, cat: f.cat, args: f.args }, f);
        assert.deepEqual({ ...p, cat: f.cat, args: f.args }, f);
        // metadata: exactly the M events' args.
        assert.equal(m.args, f.ph === 'M' ? f.args : '');
        // first-per-name: M events and the first event of every name keep theirs; any kept args are
        // the event's own.
        if (f.ph === 'M' || (f.args !== '' && !named.has(f.name))) assert.equal(p.args, f.args);
        else assert.ok(p.args === '' || p.args === f.args);
        if (f.args !== '' && f.ph !== 'M') named.add(f.name);
      });
    });
  }

  it("'first-per-name' keeps the first event's args of each name and drops the repeats", async () => {
    const path = join(tmp, 'repeats.json');
    writeFileSync(
      path,
      JSON.stringify([
        { ph: 'M', name: 'thread_name', pid: 1, tid: 1, args: { name: 'main' } },
        { ph: 'X', name: 'fetch', ts: 1, dur: 1, pid: 1, tid: 1, args: { file: 'a.js', line: 3 } },
        { ph: 'X', name: 'render', ts: 2, dur: 1, pid: 1, tid: 1, args: { n: 1 } },
        { ph: 'X', name: 'fetch', ts: 3, dur: 1, pid: 1, tid: 1, args: { file: 'a.js', line: 3 } },
        { ph: 'X', name: 'render', ts: 4, dur: 1, pid: 1, tid: 1, args: { n: 2 } },
        { ph: 'M', name: 'thread_name', pid: 1, tid: 2, args: { name: 'worker' } },
      ]),
    );
    const { events } = await readPath(path, (i) => readChrome(i, { args: 'first-per-name' }));
    assert.deepEqual(
      events.map((e) => e.args),
      ['{"name":"main"}', '{"file":"a.js","line":3}', '{"n":1}', '', '', '{"name":"worker"}'],
    );
  });

  it('nameIds: one number per distinct name, kept through evictions from the name cache', async () => {
    // 20,000 names (more than the cache's 8,192 slots, so names collide and come back after
    // eviction), each used three times in a shuffled order, plus names the cache does not take
    // (escaped, non-ASCII, one character).
    const names = Array.from({ length: 20_000 }, (_, i) => `fn${i} (src/m${i % 97}.js:${i})`);
    names.push('a', 'b', 'tab\tname', 'café');
    const order = names.flatMap((n) => [n, n, n]);
    let seed = 7;
    for (let i = order.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const path = join(tmp, 'names.json');
    writeFileSync(
      path,
      JSON.stringify(order.map((name, i) => ({ ph: 'X', name, ts: i, dur: 1, pid: 1, tid: 1 }))),
    );
    const numbered = await readPath(path, (i) => readChrome(i, { nameIds: true, args: 'metadata' }));
    const idOfName = new Map<string, number>();
    const nameOfId = new Map<number, string>();
    for (const ev of numbered.events) {
      assert.ok(Number.isInteger(ev.nameId) && ev.nameId > 0, `${ev.name}: ${ev.nameId}`);
      assert.equal(idOfName.get(ev.name) ?? ev.nameId, ev.nameId, `one number for "${ev.name}"`);
      assert.equal(nameOfId.get(ev.nameId) ?? ev.name, ev.name, `one name for ${ev.nameId}`);
      idOfName.set(ev.name, ev.nameId);
      nameOfId.set(ev.nameId, ev.name);
    }
    assert.equal(idOfName.size, names.length);
    const plain = await readPath(path, (i) => readChrome(i));
    assert.ok(plain.events.every((ev) => ev.nameId === 0));
  });

  it('still rejects malformed args it does not copy, naming the byte', async () => {
    const text = '[{"ph":"X","name":"a","ts":1,"dur":1,"args":{"k":tru}}]';
    const path = join(tmp, 'bad-args.json');
    writeFileSync(path, text);
    await assert.rejects(
      readPath(path, (i) => readChrome(i, { args: 'metadata', categoriesNeeded: false })),
      (err: unknown) => err instanceof VizError && /byte \d+/.test(err.message),
    );
  });

  it('still rejects a malformed category it does not keep', async () => {
    const path = join(tmp, 'bad-cat.json');
    writeFileSync(path, '[{"ph":"X","name":"a","cat":"x\\q","ts":1,"dur":1}]');
    const input = await openInput(path);
    await assert.rejects(
      (async () => {
        for await (const _ of readChrome(input, { categoriesNeeded: false }).batches());
      })(),
      VizError,
    );
  });
});
