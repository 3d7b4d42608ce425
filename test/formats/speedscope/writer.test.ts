import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { openInput } from '../../../src/io/input.js';
import { openOutput } from '../../../src/io/output.js';
import { Diagnostics } from '../../../src/model/diagnostics.js';
import { makeEvent, threadKey, type TraceEvent } from '../../../src/model/event.js';
import { SliceNester } from '../../../src/model/nesting.js';
import { timeOrdered } from '../../../src/model/order.js';
import { emptyMeta, type TraceSource } from '../../../src/model/source.js';
import { detectFormat, formatByName, outputFormat } from '../../../src/formats/registry.js';
import { frameFromName, sniffSpeedscope, writeSpeedscope } from '../../../src/formats/speedscope/writer.js';
import { openTrace } from '../../../src/ops/open.js';
import { convert } from '../../../src/ops/convert.js';

const require = createRequire(import.meta.url);
const schemaPath = join(
  dirname(require.resolve('speedscope/package.json')),
  'dist/release/file-format-schema.json',
);
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Schema;

interface Schema {
  $ref?: string;
  type?: string;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  definitions?: Record<string, Schema>;
}

/** The subset of JSON Schema draft-07 that speedscope's schema uses. Returns the first violation. */
function validate(value: unknown, s: Schema, path = '$'): string | undefined {
  if (s.$ref) return validate(value, schema.definitions![s.$ref.replace('#/definitions/', '')]!, path);
  if (s.anyOf) {
    const errors = s.anyOf.map((alt) => validate(value, alt, path));
    return errors.some((e) => e === undefined)
      ? undefined
      : `${path}: matches no alternative (${errors.join(' | ')})`;
  }
  if (s.const !== undefined && value !== s.const) return `${path}: expected ${JSON.stringify(s.const)}`;
  if (s.enum && !s.enum.includes(value)) return `${path}: not one of ${JSON.stringify(s.enum)}`;
  if (s.type) {
    const t = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
    if (t !== s.type) return `${path}: expected ${s.type}, got ${t}`;
  }
  if (s.required) for (const k of s.required) if (!(k in (value as object))) return `${path}: missing ${k}`;
  if (s.properties) {
    for (const [k, sub] of Object.entries(s.properties)) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) {
        const e = validate(v, sub, `${path}.${k}`);
        if (e) return e;
      }
    }
  }
  if (s.items && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const e = validate(value[i], s.items, `${path}[${i}]`);
      if (e) return e;
    }
  }
  return undefined;
}

interface Doc {
  $schema: string;
  activeProfileIndex: number;
  profiles: {
    type: string;
    name: string;
    unit: string;
    startValue: number;
    endValue: number;
    events: { type: 'O' | 'C'; frame: number; at: number }[];
  }[];
  shared: { frames: { name: string; file?: string; line?: number }[] };
}

/**
 * What speedscope's evented import (CallTreeProfileBuilder) insists on: times never go
 * back, every C closes the frame on top of the stack, nothing is left open.
 */
function speedscopeImportCheck(doc: Doc): void {
  for (const p of doc.profiles) {
    const stack: number[] = [];
    let last = -Infinity;
    for (const ev of p.events) {
      assert.ok(ev.at >= last, `${p.name}: time goes back at ${ev.at}`);
      assert.ok(
        ev.at >= p.startValue && ev.at <= p.endValue,
        `${p.name}: ${ev.at} outside [startValue, endValue]`,
      );
      last = ev.at;
      assert.ok(
        ev.frame >= 0 && ev.frame < doc.shared.frames.length,
        `${p.name}: frame ${ev.frame} not in the table`,
      );
      if (ev.type === 'O') stack.push(ev.frame);
      else
        assert.equal(stack.pop(), ev.frame, `${p.name}: C for frame ${ev.frame} is not the top of the stack`);
    }
    assert.equal(stack.length, 0, `${p.name}: frames left open`);
  }
}

async function toSpeedscope(path: string): Promise<Doc> {
  const dir = mkdtempSync(join(tmpdir(), 'viz-ss-test-'));
  try {
    const out = join(dir, 'out.speedscope.json');
    await convert(path, { output: out, progress: false });
    const text = readFileSync(out, 'utf8');
    assert.ok(sniffSpeedscope(Buffer.from(text.slice(0, 4096))), 'the output is sniffed as speedscope');
    return JSON.parse(text) as Doc;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The nester's own enter/exit sequence per thread, as `O name at` / `C name at` lines. */
async function nesterSequence(path: string): Promise<Map<string, string[]>> {
  const { source } = await openTrace(path);
  const diagnostics = new Diagnostics();
  const seqs = new Map<string, string[]>();
  const add = (pid: unknown, tid: unknown, line: string): void => {
    const k = threadKey(pid as number, tid as number);
    let s = seqs.get(k);
    if (!s) seqs.set(k, (s = []));
    s.push(line);
  };
  const nester = new SliceNester(
    {
      enter: (sl) => add(sl.thread.pid, sl.thread.tid, `O ${sl.name} ${sl.ts}`),
      exit: (sl, end) => add(sl.thread.pid, sl.thread.tid, `C ${sl.name} ${end}`),
    },
    diagnostics,
  );
  for await (const b of timeOrdered(source.batches(), { diagnostics })) nester.push(b);
  nester.finish();
  return seqs;
}

function fullName(f: { name: string; file?: string; line?: number }): string {
  return f.file === undefined ? f.name : `${f.name} (${f.file}:${f.line})`;
}

const fixtures = [
  'test/fixtures/viztracer-generated/fib15.json',
  'test/fixtures/viztracer-generated/threads.json',
  'test/fixtures/viztracer-generated/custom_events.json',
  'test/fixtures/external/catapult/tall_trace.json',
  'test/fixtures/external/hta-pytorch/simple_add_trace.json.gz',
  ...readdirSync('test/fixtures/external/speedscope')
    .filter((f) => f.endsWith('.json'))
    .map((f) => `test/fixtures/external/speedscope/${f}`),
];

describe('speedscope writer', () => {
  for (const path of fixtures) {
    it(`${path}: valid per speedscope's schema, importable, nesting equals the SliceNester's`, async () => {
      const doc = await toSpeedscope(path);
      assert.equal(validate(doc, schema), undefined);
      speedscopeImportCheck(doc);
      const expected = await nesterSequence(path);
      const nonEmpty = [...expected.values()].filter((s) => s.length > 0);
      const got = doc.profiles.filter((p) => p.events.length > 0);
      assert.equal(got.length, nonEmpty.length, 'one profile per thread with slices');
      const gotSeqs = got.map((p) =>
        p.events.map((e) => `${e.type} ${fullName(doc.shared.frames[e.frame]!)} ${e.at}`),
      );
      // Profiles are sorted by (pid, tid); compare as sets of sequences.
      const key = (s: string[]): string => s.join('\n');
      assert.deepEqual(gotSeqs.map(key).sort(), nonEmpty.map(key).sort());
    });
  }

  it('names each profile after its process and thread, one per thread', async () => {
    const doc = await toSpeedscope('test/fixtures/viztracer-generated/threads.json');
    assert.ok(doc.profiles.length >= 4, `${doc.profiles.length} profiles`);
    for (const p of doc.profiles) assert.match(p.name, /^.+ \(pid \d+\) \/ .+ \(tid \d+\)$/);
    assert.ok(doc.profiles.some((p) => p.name.includes('MainThread')));
    // The active profile is the busiest thread.
    const counts = doc.profiles.map((p) => p.events.length);
    assert.equal(counts[doc.activeProfileIndex], Math.max(...counts));
  });

  it('splits VizTracer names into frame name, file and line', async () => {
    assert.deepEqual(frameFromName('fib (/home/user/vtprog/fib.py:3)'), {
      name: 'fib',
      file: '/home/user/vtprog/fib.py',
      line: 3,
    });
    assert.deepEqual(frameFromName('builtins.len'), { name: 'builtins.len' });
    const doc = await toSpeedscope('test/fixtures/viztracer-generated/fib15.json');
    const fib = doc.shared.frames.find((f) => f.name === 'fib');
    assert.deepEqual(fib, { name: 'fib', file: '/home/user/vtprog/fib.py', line: 3 });
    assert.equal(doc.profiles[0]!.unit, 'nanoseconds');
  });

  it('streams many threads and events through its spill file in order', async () => {
    // 40 threads x 3000 nested slices: each thread's events cross several spill chunks.
    const events: TraceEvent[] = [];
    for (let i = 0; i < 3000; i++) {
      for (let tid = 1; tid <= 40; tid++) {
        events.push(makeEvent({ ph: 'X', name: `f${i % 7}`, ts: i * 1000, dur: 500, pid: 1, tid }));
        events.push(makeEvent({ ph: 'X', name: `g${tid}`, ts: i * 1000 + 100, dur: 200, pid: 1, tid }));
      }
    }
    const source: TraceSource = {
      meta: emptyMeta('test'),
      diagnostics: new Diagnostics(),
      bytesRead: 0,
      async *batches() {
        for (let i = 0; i < events.length; i += 5000) yield events.slice(i, i + 5000);
      },
    };
    const dir = mkdtempSync(join(tmpdir(), 'viz-ss-test-'));
    try {
      const path = join(dir, 'many.speedscope.json');
      const out = openOutput(path);
      // Tiny buffers: every thread grows, spills on its own and through the total cap.
      const result = await writeSpeedscope(source, out, {
        name: 'many',
        buffers: { min: 160, max: 2048, total: 16 * 1024 },
      });
      await out.commit();
      const doc = JSON.parse(readFileSync(path, 'utf8')) as Doc;
      assert.equal(validate(doc, schema), undefined);
      speedscopeImportCheck(doc);
      assert.equal(doc.profiles.length, 40);
      assert.equal(result.events, events.length * 2);
      assert.equal(doc.shared.frames.length, 7 + 40);
      for (const p of doc.profiles) {
        assert.equal(p.events.length, 3000 * 4);
        const tid = /tid (\d+)/.exec(p.name)![1];
        assert.equal(doc.shared.frames[p.events[1]!.frame]!.name, `g${tid}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes negative, zero, large and fractional times exactly', async () => {
    const times = [-1_000_000_007, -1, 0, 9, 10, 1234567890123, 2.5];
    const events = times.map((ts, i) => makeEvent({ ph: 'X', name: `f${i}`, ts, dur: 0, pid: 1, tid: 1 }));
    const source: TraceSource = {
      meta: emptyMeta('test'),
      diagnostics: new Diagnostics(),
      bytesRead: 0,
      async *batches() {
        yield events;
      },
    };
    const dir = mkdtempSync(join(tmpdir(), 'viz-ss-test-'));
    try {
      const path = join(dir, 't.speedscope.json');
      const out = openOutput(path);
      await writeSpeedscope(source, out, {});
      await out.commit();
      const doc = JSON.parse(readFileSync(path, 'utf8')) as Doc;
      const opens = doc.profiles[0]!.events.filter((e) => e.type === 'O').map((e) => e.at);
      assert.deepEqual(
        opens,
        [...times].sort((a, b) => a - b),
      );
      assert.equal(doc.profiles[0]!.startValue, times[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes one empty profile when the trace has no slices', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'viz-ss-test-'));
    try {
      const path = join(dir, 'counters.json');
      writeFileSync(
        path,
        JSON.stringify({ traceEvents: [{ ph: 'C', name: 'mem', ts: 1, pid: 1, tid: 1, args: { v: 1 } }] }),
      );
      const doc = await toSpeedscope(path);
      assert.equal(validate(doc, schema), undefined);
      assert.equal(doc.profiles.length, 1);
      assert.equal(doc.profiles[0]!.events.length, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is a convert target by name and by extension, and is not mistaken for Chrome JSON', async () => {
    assert.equal(formatByName('speedscope')?.name, 'speedscope');
    assert.equal(outputFormat(undefined, 'x.speedscope.json').name, 'speedscope');
    assert.equal(outputFormat(undefined, 'x.json').name, 'chrome');
    const dir = mkdtempSync(join(tmpdir(), 'viz-ss-test-'));
    try {
      const path = join(dir, 'y.json');
      writeFileSync(
        path,
        `{"exporter":"speedscope@1.25.0","$schema": "https://www.speedscope.app/file-format-schema.json","profiles":[]}`,
      );
      const input = await openInput(path);
      assert.throws(() => detectFormat(input), /file name says chrome but the content looks like speedscope/);
      assert.equal(sniffSpeedscope(Buffer.from('{"traceEvents":[]}')), false);
      assert.equal(
        sniffSpeedscope(Buffer.from('[{"$schema":"https://www.speedscope.app/file-format-schema.json"}]')),
        false,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
