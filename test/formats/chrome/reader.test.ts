import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readChrome, sniffChrome } from '../../../src/formats/chrome/reader.js';
import { readChromeGeneric } from '../../../src/formats/chrome/reader-generic.js';
import { openInput } from '../../../src/io/input.js';
import { VizError } from '../../../src/model/errors.js';
import type { TraceEvent } from '../../../src/model/event.js';
import { FIXTURES, fixtureText, oracleEvents, readPath, traceFixtures } from '../../support/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'viz-reader-'));
function writeTmp(name: string, content: string | Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
}

describe('Chrome JSON reader', () => {
  describe('every real fixture', () => {
    for (const fx of traceFixtures()) {
      it(`reads ${fx.name} with the same events as JSON.parse`, async () => {
        const { events, source } = await readPath(fx.path, readChrome);
        const oracle = oracleEvents(fixtureText(fx.path));
        const withPhase = oracle.events.filter((e) => typeof e.ph === 'string');
        // Counts per phase, independently.
        const expected: Record<string, number> = {};
        for (const e of withPhase) expected[e.ph as string] = (expected[e.ph as string] ?? 0) + 1;
        const actual: Record<string, number> = {};
        for (const e of events) actual[e.ph] = (actual[e.ph] ?? 0) + 1;
        assert.deepEqual(actual, expected);
        // Field by field.
        const base = source.meta.baseUs;
        withPhase.forEach((o, i) => {
          const e = events[i]!;
          assert.equal(e.ph, o.ph);
          assert.equal(e.name, o.name ?? '');
          assert.equal(e.cat, o.cat ?? '');
          assert.equal(e.pid, o.pid ?? 0);
          assert.equal(e.tid, o.tid ?? 0);
          if (typeof o.ts === 'number')
            assert.equal(base * 1000 + e.ts, Math.round(o.ts * 1000), `ts of event ${i}`);
          if (typeof o.dur === 'number') assert.equal(e.dur, Math.round(o.dur * 1000));
          if (o.args !== undefined) assert.deepEqual(JSON.parse(e.args), o.args);
        });
        // Top-level keys kept as metadata.
        assert.deepEqual(source.meta.topLevel, oracle.top);
      });
    }
  });

  describe('agrees with the stream-json reference reader', () => {
    // The reference reader is for complete JSON (stream-json drops the tokens of the chunk in
    // which it meets the cut); truncated files are checked against the repairing oracle above.
    for (const fx of traceFixtures().filter((f) => !f.name.includes('partial'))) {
      it(fx.name, async () => {
        const fast = await readPath(fx.path, readChrome);
        const generic = await readPath(fx.path, readChromeGeneric);
        assert.equal(fast.events.length, generic.events.length);
        assert.equal(fast.source.meta.baseUs, generic.source.meta.baseUs);
        fast.events.forEach((e, i) =>
          assert.deepEqual(normalise(e), normalise(generic.events[i]!), `event ${i}`),
        );
        assert.deepEqual(fast.source.meta.topLevel, generic.source.meta.topLevel);
      });
    }
  });

  it('keeps microsecond fractions to the nanosecond, with epoch-sized timestamps', async () => {
    const p = writeTmp(
      'epoch.json',
      '[{"ph":"X","name":"a","ts":1700000000123456.789,"dur":0.001,"pid":1,"tid":1},{"ph":"i","name":"b","ts":1700000000123457.5,"pid":1,"tid":1},{"ph":"i","name":"c","ts":1700000000123455,"pid":1,"tid":1}]',
    );
    const { events, source } = await readPath(p, readChrome);
    assert.equal(source.meta.baseUs, 1700000000123456);
    assert.deepEqual(
      events.map((e) => e.ts),
      [789, 1500, -1000],
    );
    assert.equal(events[0]!.dur, 1);
  });

  it('rounds a fourth decimal to the nearest nanosecond', async () => {
    const p = writeTmp(
      'round.json',
      '[{"ph":"i","ts":10.0004,"pid":1,"tid":1},{"ph":"i","ts":10.0005,"pid":1,"tid":1},{"ph":"i","ts":10.9996,"pid":1,"tid":1}]',
    );
    const { events } = await readPath(p, readChrome);
    assert.deepEqual(
      events.map((e) => e.ts),
      [0, 1, 1000],
    );
  });

  it('keeps string pids and tids, id/id2/scope and args of any shape', async () => {
    const p = writeTmp(
      'shapes.json',
      '{"traceEvents":[{"ph":"b","name":"req","cat":"net","id":"0x1f","scope":"s","pid":"worker-A","tid":"t1","ts":1,"args":[1,{"a":null}]},{"ph":"e","name":"req","cat":"net","id2":{"local":"0x1f"},"pid":"worker-A","tid":"t1","ts":2,"args":"text"}],"otherData":{"v":1}}',
    );
    const { events, source } = await readPath(p, readChrome);
    assert.equal(events[0]!.pid, 'worker-A');
    assert.equal(events[0]!.tid, 't1');
    assert.equal(events[0]!.id, '"0x1f"');
    assert.equal(events[0]!.extra?.scope, '"s"');
    assert.equal(events[0]!.args, '[1,{"a":null}]');
    assert.equal(events[1]!.extra?.id2, '{"local":"0x1f"}');
    assert.deepEqual(source.meta.topLevel, { otherData: { v: 1 } });
  });

  it('takes the first metadata event as the base after 65,536 of them, so memory stays bounded', async () => {
    const parts: string[] = [];
    for (let i = 0; i < 70_000; i++)
      parts.push(`{"ph":"M","name":"thread_name","pid":1,"tid":${i},"ts":5,"args":{"name":"t${i}"}}`);
    parts.push('{"ph":"X","name":"x","pid":1,"tid":1,"ts":7.25,"dur":1}');
    const p = writeTmp('many-m.json', `[${parts.join(',')}]`);
    const source = readChrome(await openInput(p));
    let batches = 0;
    const events: TraceEvent[] = [];
    for await (const b of source.batches()) {
      batches++;
      events.push(...b);
    }
    assert.equal(events.length, 70_001);
    assert.ok(batches > 1, 'metadata events were held until the end');
    assert.equal(source.meta.baseUs, 5);
    assert.equal(events[0]!.ts, 0);
    assert.equal(events.at(-1)!.ts, 2250);
  });

  it('counts unknown phases without failing', async () => {
    const p = writeTmp(
      'unknown.json',
      '[{"ph":"Q","name":"q","ts":1,"pid":1,"tid":1},{"ph":"X","name":"x","ts":1,"dur":1,"pid":1,"tid":1}]',
    );
    const { events, source } = await readPath(p, readChrome);
    assert.equal(events.length, 2);
    assert.equal(source.diagnostics.get('unknown_phase')?.count, 1);
  });

  it('detects gzip by its magic bytes whatever the file is called', async () => {
    const text = fixtureText(join(FIXTURES, 'external/speedscope/simple.json'));
    const p = writeTmp('compressed-but-named.json', gzipSync(text));
    const { events } = await readPath(p, readChrome);
    assert.equal(events.length, 6);
  });

  it('reads events split across chunk boundaries of any size', async () => {
    const cases: [string, number[]][] = [
      ['viztracer-generated/custom_events.json', [1, 7, 64, 1000]],
      // Chunks over 128 KiB take the bridge path (the cut event is finished on a small buffer).
      ['viztracer-generated/fib15.json', [131073, 140000, 200003]],
    ];
    for (const [name, sizes] of cases) {
      const text = fixtureText(join(FIXTURES, name));
      const whole = (await readPath(writeTmp('whole.json', text), readChrome)).events;
      for (const size of sizes) {
        const buf = Buffer.from(text);
        const input = {
          name: 'pieces',
          gzip: false,
          size: buf.length,
          head: buf.subarray(0, 4096),
          bytesRead: () => 0,
          close: () => {},
          chunks: async function* () {
            for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
          },
        };
        const source = readChrome(input);
        const got: TraceEvent[] = [];
        for await (const b of source.batches()) got.push(...b);
        assert.deepEqual(got, whole, `${name}, chunk size ${size}`);
      }
    }
  });

  describe('truncated files', () => {
    const events = [
      '{"ph":"B","name":"alpha","ts":0,"pid":0,"tid":0}',
      '{"ph":"X","name":"gamma","ts":2,"dur":5,"pid":0,"tid":0,"args":{"detail":"foo, bar }"}}',
      '{"ph":"i","name":"mark","ts":3,"pid":0,"tid":0,"s":"t"}',
      '{"ph":"E","ts":14,"pid":0,"tid":0}',
    ];
    for (const container of ['array', 'object'] as const) {
      it(`${container} form cut at every byte keeps every complete event and warns once`, async () => {
        const prefix = container === 'array' ? '[\n' : '{"otherData":{"a":1},"traceEvents":[\n';
        const full = prefix + events.join(',\n') + (container === 'array' ? '\n]\n' : '\n]}\n');
        // Byte offset where each event's text ends.
        const ends: number[] = [];
        let at = prefix.length;
        for (const e of events) {
          at += e.length;
          ends.push(at);
          at += 2;
        }
        for (let cut = 1; cut < full.length; cut++) {
          const text = full.slice(0, cut);
          if (text.trim() === '') continue;
          const p = writeTmp(`cut-${container}.json`, text);
          const source = readChrome(await openInput(p));
          const got: TraceEvent[] = [];
          let error: unknown;
          try {
            for await (const b of source.batches()) got.push(...b);
          } catch (err) {
            error = err;
          }
          if (container === 'object' && cut < prefix.length - 1) {
            // Cut before the events array starts: there is nothing to keep.
            if (error) assert.ok(error instanceof VizError, `cut ${cut}: ${String(error)}`);
            continue;
          }
          assert.equal(error, undefined, `cut ${cut}: ${String(error)}`);
          const complete = ends.filter((e) => e <= cut).length;
          assert.equal(got.length, complete, `cut at ${cut}`);
          const closed = cut >= full.trimEnd().length;
          const warning = source.diagnostics.get('truncated_input');
          if (closed) assert.equal(warning, undefined, `cut ${cut}`);
          else assert.equal(warning?.count, 1, `cut ${cut}: expected one truncation warning`);
        }
      });
    }

    it('a gzip stream cut short keeps the complete events', async () => {
      const text = fixtureText(join(FIXTURES, 'viztracer-generated/fib15.json'));
      const gz = gzipSync(text);
      const p = writeTmp('cut.json.gz', gz.subarray(0, Math.floor(gz.length * 0.6)));
      const { events, source } = await readPath(p, readChrome);
      assert.ok(events.length > 100 && events.length < 1979, `kept ${events.length}`);
      assert.equal(source.diagnostics.get('truncated_input')?.count, 1);
    });
  });

  describe('inputs that are not traces', () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ['plain text', 'hello world\n', /byte 0: not a Chrome trace/],
      ['an object without traceEvents', '{"foo": 1, "bar": [1,2]}', /no "traceEvents"/],
      ['an array of numbers', '[1, 2, 3]', /byte 1: expected an event object/],
      [
        'garbage after an event',
        '[{"ph":"B","ts":1,"pid":1,"tid":1} x ]',
        /byte 35: expected an event object/,
      ],
      ['a bad value inside an event', '[{"ph":"B","ts":1,"pid":nope}]', /byte 24: invalid value 'nope'/],
      ['an empty file', '', /empty input/],
      ['binary junk', Buffer.from([0, 1, 2, 3, 255, 254]), /not a Chrome trace/],
    ];
    for (const [what, content, message] of cases) {
      it(`rejects ${what} with a one-line error naming the byte`, async () => {
        const p = writeTmp('bad.json', content);
        await assert.rejects(readPath(p, readChrome), (err: unknown) => {
          assert.ok(err instanceof VizError);
          assert.equal(err.kind, 'badInput');
          assert.match(err.message, message);
          assert.ok(err.message.startsWith(p), err.message);
          assert.ok(!err.message.includes('\n'));
          return true;
        });
      });
    }
  });

  it('sniffs Chrome JSON from the first bytes', () => {
    assert.ok(sniffChrome(Buffer.from('  [ {"ph"')));
    assert.ok(sniffChrome(Buffer.from('{"traceEvents"')));
    assert.ok(sniffChrome(Buffer.from('\ufeff[]')));
    assert.ok(!sniffChrome(Buffer.from('hello')));
    assert.ok(!sniffChrome(Buffer.from([0x0a, 0x10, 0x08])));
  });
});

/** The reference reader normalises raw JSON text; compare parsed values. */
function normalise(e: TraceEvent): unknown {
  return {
    ...e,
    id: e.id === '' ? '' : JSON.parse(e.id),
    args: e.args === '' ? '' : JSON.parse(e.args),
    extra: e.extra && Object.fromEntries(Object.entries(e.extra).map(([k, v]) => [k, JSON.parse(v)])),
  };
}
