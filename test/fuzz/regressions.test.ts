/**
 * Inputs the fuzzer found, one case each (notes/fuzz-findings.md has the story): each must end in
 * a result or a one-line error naming the input, run under the fuzz worker's limits.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FuzzRunner, type Verdict } from './harness.js';
import type { Pipeline } from './protocol.js';
import { CORPUS } from './seeds.js';
import { convert } from '../../src/ops/convert.js';
import { openTrace } from '../../src/ops/open.js';
import { openRingDump, ringSourceFromBytes } from '../../src/formats/ring/reader.js';
import type { TraceSource } from '../../src/model/source.js';

const ev = (rest: string): string => `{"ph":"X","name":"a","ts":1,"dur":1,"pid":1,"tid":1${rest}}`;

describe('fuzz regressions', function () {
  this.timeout(120_000);
  const runner = new FuzzRunner();
  after(() => runner.close());

  async function expectError(
    pipeline: Pipeline,
    fileName: string,
    bytes: Buffer | string,
    pattern: RegExp,
  ): Promise<Verdict> {
    const v = await runner.check(pipeline, fileName, Buffer.from(bytes), 'regression');
    assert.equal(v.outcome, 'error', `expected an error, got ${JSON.stringify(v).slice(0, 300)}`);
    assert.match(v.outcome === 'error' ? (v.message ?? '') : '', pattern);
    return v;
  }

  describe('Chrome JSON: raw values kept for later are valid JSON (F1)', () => {
    for (const pipeline of ['read', 'stats', 'perfetto', 'chrome'] as const) {
      it(`${pipeline}: args with a missing colon is a syntax error at its byte`, async () => {
        const text = `[${ev(',"args":{"a" 1}')}]`;
        await expectError(
          pipeline,
          'bad-args.json',
          text,
          new RegExp(`byte ${text.indexOf('" 1') + 2}: expected ':'`),
        );
      });
    }
    for (const [what, value] of [
      ['a bare word', '[aaa]'],
      ['a number with a trailing dot', '[1.]'],
      ['a missing comma', '[1 2]'],
      ['a trailing comma', '{"a":1,}'],
      ['an unknown escape', '"\\x41"'],
      ['a short \\u escape', '"\\u12"'],
      ['a closer of the wrong kind', '[1}'],
    ]) {
      it(`args holding ${what} is rejected with an offset`, async () => {
        await expectError('read', 'bad-value.json', `[${ev(`,"args":${value}`)}]`, /byte \d+: /);
      });
    }
    it('a string pid with an unknown escape is a syntax error, not a JSON.parse crash', async () => {
      await expectError(
        'read',
        'bad-pid.json',
        '[{"ph":"i","name":"a","ts":1,"pid":"\\x41","tid":1}]',
        /byte 36: invalid escape/,
      );
    });
    it('an invalid top-level value is a syntax error, not a JSON.parse crash', async () => {
      await expectError(
        'info',
        'bad-top.json',
        '{"traceEvents":[],"metadata":{"k":[aaa]}}',
        /byte 35: invalid value 'aaa'/,
      );
    });
    it('valid but unusual values are still accepted', async () => {
      const text = `[${ev(',"args":{"a":[1.5e-3,-0,true,false,null,"\\u00e9\\n\\"",{},[]],"b":{"c":{"d":[[[]]]}}}')}]`;
      const v = await runner.check('chrome', 'ok-args.json', Buffer.from(text), 'regression');
      assert.equal(v.outcome, 'ok');
    });
  });

  it('times out of range: dropped or ignored with invalid_time, and the Chrome output stays JSON (F18)', async () => {
    const text =
      '[{"ph":"X","name":"a","ts":1,"dur":1.7976931348623157e308,"pid":1,"tid":1},' +
      '{"ph":"X","name":"b","ts":1e308,"dur":1,"pid":1,"tid":1},{"ph":"X","name":"c","ts":2,"dur":1e300,"pid":1,"tid":1}]';
    for (const pipeline of ['read', 'stats', 'perfetto', 'flamegraph'] as const) {
      const v = await runner.check(pipeline, 'big-times.json', Buffer.from(text), 'regression');
      assert.equal(v.outcome, 'ok', JSON.stringify(v));
    }
    const dir = mkdtempSync(join(tmpdir(), 'viz-f18-'));
    try {
      writeFileSync(join(dir, 'in.json'), text);
      const r = await convert(join(dir, 'in.json'), {
        to: 'chrome',
        output: join(dir, 'out.json'),
        progress: false,
      });
      assert.equal(r.diagnostics.get('invalid_time')?.count, 2);
      const out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as {
        traceEvents: { name: string; dur?: number }[];
      };
      assert.deepEqual(
        out.traceEvents.map((e) => [e.name, e.dur]),
        [
          ['a', undefined],
          ['c', 1e300],
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a gzip stream cut inside the first 4 KiB is a truncated trace, not a crash (F2)', async () => {
    const gz = gzipSync(
      readFileSync(join(CORPUS, '..', '..', 'fixtures', 'external', 'catapult', 'simple_trace.json')),
    );
    for (const pipeline of ['read', 'info', 'stats'] as const) {
      for (const cut of [12, 40, 200]) {
        const v = await runner.check(pipeline, 'cut.json.gz', gz.subarray(0, cut), `cut ${cut}`);
        if (v.outcome === 'ok' && pipeline === 'read')
          assert.ok(v.diagnostics?.includes('truncated_input'), JSON.stringify(v));
      }
    }
  });

  it('folded: a 200 KB line at the start does not make the sniffer backtrack for minutes (F3)', async () => {
    const text = 'a 1[' + '['.repeat(200_000) + ' x\nb;c 2\n';
    const v = await runner.check('info', 'long-line.folded', Buffer.from(text), 'regression');
    assert.equal(v.outcome, 'ok');
  });

  it('ring: a section length far beyond the file is a truncation, not a RangeError (F5)', async () => {
    const dump = Buffer.from(readFileSync(join(CORPUS, 'fib6.vizdump')));
    for (const length of [0xffffffffffffffffn, 1n << 40n, 1n << 30n]) {
      dump.writeBigUInt64LE(length, 64 + 8); // the first section header's length
      for (const pipeline of ['read', 'info', 'chrome'] as const) {
        const v = await runner.check(pipeline, 'long-section.vizdump', dump, `length ${length}`);
        if (v.outcome === 'ok') assert.ok(v.diagnostics?.includes('truncated_input'), JSON.stringify(v));
      }
    }
  });

  it('ring dumps are in the registry: viz info and convert read them (F4)', async () => {
    const v = await runner.check(
      'info',
      'fib6.vizdump',
      readFileSync(join(CORPUS, 'fib6.vizdump')),
      'regression',
    );
    assert.equal(v.outcome, 'ok');
    // 52 recorded calls (26 enter/exit pairs), plus the metadata events the reader adds.
    assert.ok(v.outcome === 'ok' && (v.events ?? 0) >= 52, JSON.stringify(v));
    const c = await runner.check(
      'chrome',
      'fib6.vizdump',
      readFileSync(join(CORPUS, 'fib6.vizdump')),
      'regression',
    );
    assert.equal(c.outcome, 'ok');
  });
  /** Every event of a source, and its diagnostics afterwards. */
  async function drain(source: TraceSource): Promise<number> {
    let n = 0;
    for await (const batch of source.batches()) n += batch.length;
    return n;
  }

  it('ring: a truncated dump names the byte where the data ends, not where the ring should (F6)', async () => {
    const whole = readFileSync(join(CORPUS, 'fib6.vizdump'));
    const dir = mkdtempSync(join(tmpdir(), 'viz-f6-'));
    try {
      for (const cut of [900, 700, whole.length - 20]) {
        const path = join(dir, `cut-${cut}.vizdump`);
        writeFileSync(path, whole.subarray(0, cut));
        for (const source of [openRingDump(path), ringSourceFromBytes(whole.subarray(0, cut), path)]) {
          await drain(source);
          const d = source.diagnostics.get('truncated_input');
          assert.ok(d, `cut at ${cut}: no truncated_input`);
          const at = Number(/byte (\d+)/.exec(d.message)?.[1]);
          assert.ok(at <= cut, `cut at ${cut}: ${d.message}`);
          if (cut === 900) assert.equal(at, 900, d.message);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('folded: counts beyond 2^53 (or not decimal) are bad lines, and a sum past 2^53 stops the time axis (F19)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'viz-f19-'));
    try {
      const check = async (text: string): Promise<{ names: string[]; bad: number; maxTs: number }> => {
        const path = join(dir, 'x.folded');
        writeFileSync(path, text);
        const { source } = await openTrace(path);
        const names: string[] = [];
        let maxTs = 0;
        for await (const batch of source.batches()) {
          for (const e of batch) {
            if (e.ph === 'B') names.push(e.name);
            assert.ok(Number.isSafeInteger(e.ts), `${e.name}: ts ${e.ts}`);
            maxTs = Math.max(maxTs, e.ts);
          }
        }
        return { names, bad: source.diagnostics.get('bad_folded_line')?.count ?? 0, maxTs };
      };
      // Found by the fuzzer: 1e308 was accepted, and every later slice started at Infinity.
      assert.deepEqual(await check('a;b 1e308\nc 1e308\nd 5\n'), { names: ['d'], bad: 2, maxTs: 5 });
      assert.deepEqual(await check(`a ${'9'.repeat(400)}\nd 5\n`), { names: ['d'], bad: 1, maxTs: 5 });
      // Each count is safe, their sum is not: the line that would pass 2^53 ns and those after it.
      const r = await check('a;b 9007199254740990\nc 9007199254740000\nd 5\n');
      assert.deepEqual(r.names, ['a', 'b']);
      assert.equal(r.bad, 2);
      assert.equal(r.maxTs, 9007199254740990);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
