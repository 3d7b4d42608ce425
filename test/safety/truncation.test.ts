/**
 * Truncation recovery: a trace cut at any byte (a JSON file, a gzip stream, a ring dump, a
 * Perfetto file, folded stacks) ends in a result or a one-line error naming the input; a result
 * holds the events before the cut, in order, never an invented or altered one; for Chrome JSON
 * exactly every event whose text is complete before the cut; and a cut that removed data says so
 * (`truncated_input`, data loss), which `viz info` prints as one clear line.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { VizError } from '../../src/model/errors.js';
import type { TraceEvent } from '../../src/model/event.js';
import { openTrace } from '../../src/ops/open.js';
import { info } from '../../src/ops/info.js';
import { formatInfo } from '../../src/ops/info-text.js';
import { convert } from '../../src/ops/convert.js';
import { FIXTURES } from '../support/fixtures.js';
import { CORPUS } from '../fuzz/seeds.js';

const dir = mkdtempSync(join(tmpdir(), 'viz-trunc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Read {
  events: TraceEvent[];
  baseUs: number;
  diagnostics: string[];
}

/** Reads a file through the registry; a VizError is returned, anything else thrown. */
async function readFile(path: string): Promise<Read | VizError> {
  try {
    const { source } = await openTrace(path);
    const events: TraceEvent[] = [];
    for await (const b of source.batches()) for (const e of b) events.push(e);
    return { events, baseUs: source.meta.baseUs, diagnostics: source.diagnostics.list().map((d) => d.code) };
  } catch (err) {
    if (err instanceof VizError) return err;
    throw err;
  }
}

/** An event as comparable text, with its absolute time (the base may differ between reads). */
function canon(e: TraceEvent, baseUs: number): string {
  const ts = Number.isFinite(e.ts) ? `${baseUs}us+${e.ts}ns` : 'none';
  return JSON.stringify([e.ph, e.name, e.cat, ts, e.dur, e.pid, e.tid, e.id, e.args, e.extra ?? null]);
}

/** End offsets (exclusive) of each element of the Chrome event array, from a small walk of the text. */
function chromeEventEnds(text: Buffer): number[] {
  const s = text.toString('latin1');
  let i = s.indexOf('"traceEvents"');
  i = s.indexOf('[', i < 0 ? 0 : i);
  const ends: number[] = [];
  let depth = 0;
  for (i++; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      for (i++; s[i] !== '"'; i++) if (s[i] === '\\') i++;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) break;
      if (--depth === 0) ends.push(i + 1);
    }
  }
  return ends;
}

/** Offsets between the top-level packets of a Perfetto trace (field 1, length-delimited). */
function packetBoundaries(bytes: Buffer): Set<number> {
  const out = new Set<number>([0]);
  const varint = (p: number): [number, number] => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = bytes[p++]!;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return [v, p];
    }
  };
  let p = 0;
  while (p < bytes.length) {
    const [, afterTag] = varint(p);
    const [len, body] = varint(afterTag);
    p = body + len;
    out.add(p);
  }
  return out;
}

interface Sweep {
  name: string;
  bytes: Buffer;
  /** Which events must form a prefix of the full read (readers may add closing events at a cut). */
  keep?: (e: TraceEvent) => boolean;
  /** Exact number of events a cut at `k` must keep, when known. */
  expected?: (k: number) => number;
  /** Whether a cut at `k` loses data the reader can notice. */
  lossy?: (k: number) => boolean;
  step?: number;
}

async function sweep(s: Sweep): Promise<{ cuts: number; errors: number }> {
  const whole = join(dir, s.name);
  writeFileSync(whole, s.bytes);
  const ref = await readFile(whole);
  assert.ok(!(ref instanceof VizError), `the whole file must read: ${String(ref)}`);
  const keep = s.keep ?? (() => true);
  const refKeys = ref.events.filter(keep).map((e) => canon(e, ref.baseUs));
  let errors = 0;
  let cuts = 0;
  let last = 0;
  const path = join(dir, `cut-${s.name}`);
  // CI cuts ~300 places per file (every byte of small files); SAFETY_FULL=1 cuts at every byte.
  const step =
    s.step ?? (process.env.SAFETY_FULL === '1' ? 1 : Math.max(1, Math.floor(s.bytes.length / 300)));
  for (
    let k = 0;
    k <= s.bytes.length;
    k = k === s.bytes.length ? k + 1 : Math.min(k + step, s.bytes.length)
  ) {
    cuts++;
    writeFileSync(path, s.bytes.subarray(0, k));
    const r = await readFile(path);
    const at = `${s.name} cut at byte ${k} of ${s.bytes.length}`;
    if (r instanceof VizError) {
      errors++;
      assert.ok(!r.message.includes('\n') && r.message.includes(path), `${at}: ${r.message}`);
      if (s.expected)
        assert.equal(
          s.expected(k),
          0,
          `${at}: an error although complete events precede the cut: ${r.message}`,
        );
      continue;
    }
    const keys = r.events.filter(keep).map((e) => canon(e, r.baseUs));
    assert.ok(keys.length <= refKeys.length, `${at}: more events than the whole file`);
    for (let i = 0; i < keys.length; i++)
      assert.equal(keys[i], refKeys[i], `${at}: event ${i} differs from the whole file's`);
    assert.ok(
      keys.length >= last || k === 0,
      `${at}: fewer events (${keys.length}) than a shorter cut (${last})`,
    );
    last = keys.length;
    if (s.expected) assert.equal(r.events.length, s.expected(k), `${at}: complete events kept`);
    if (k < s.bytes.length && (s.lossy?.(k) ?? true)) {
      assert.ok(
        r.diagnostics.includes('truncated_input'),
        `${at}: no truncated_input among ${r.diagnostics.join(', ')}`,
      );
    }
  }
  return { cuts, errors };
}

describe('truncation at every byte', function () {
  this.timeout(300_000);

  for (const [folder, file] of [
    ['catapult', 'simple_trace.json'],
    ['catapult', 'nestable_async.json'],
    ['speedscope', 'simple-partial-whitespace.json'],
    ['viztracer-examples', 'tests-old.json'],
  ]) {
    it(`Chrome JSON ${file}: exactly the complete events before the cut`, async () => {
      const bytes = readFileSync(join(FIXTURES, 'external', folder!, file!));
      const ends = chromeEventEnds(bytes);
      const lastData = bytes.toString('latin1').trimEnd().length;
      const r = await sweep({
        name: file!,
        bytes,
        expected: (k) => ends.filter((e) => e <= k).length,
        lossy: (k) => k < lastData,
      });
      assert.ok(r.cuts >= Math.min(bytes.length, 300), `${r.cuts} cuts`);
    });
  }

  it('Chrome JSON, gzip stream cut at every byte', async () => {
    const text = readFileSync(join(FIXTURES, 'external', 'catapult', 'simple_trace.json'));
    await sweep({ name: 'simple_trace.json.gz', bytes: gzipSync(text), lossy: () => true });
  });

  it('ring dump cut at every byte: the recorded calls before the cut', async () => {
    // Frames still open at the cut are closed by the reader (an added E), so compare the entries.
    await sweep({
      name: 'fib6.vizdump',
      bytes: readFileSync(join(CORPUS, 'fib6.vizdump')),
      keep: (e) => e.ph === 'B',
    });
  });

  it('Perfetto file cut at every byte: the packets before the cut', async () => {
    const src = join(FIXTURES, 'external', 'catapult', 'simple_trace.json');
    const out = join(dir, 'simple.perfetto-trace');
    await convert(src, { to: 'perfetto', output: out, progress: false });
    const bytes = readFileSync(out);
    // Slices still open at a cut are closed by the reader, so compare what starts a slice or stands alone.
    // A cut between packets leaves a valid, shorter trace: only cuts inside a packet are detectable.
    await sweep({
      name: 'simple.perfetto-trace',
      bytes,
      keep: (e) => e.ph !== 'E' && e.ph !== 'e',
      lossy: (k) => !packetBoundaries(bytes).has(k),
    });
  });

  it('folded stacks cut at every byte: never a crash (a cut line is indistinguishable from a short one)', async () => {
    const bytes = readFileSync(join(CORPUS, 'simple_trace.folded'));
    const path = join(dir, 'cut.folded');
    for (let k = 0; k <= bytes.length; k++) {
      writeFileSync(path, bytes.subarray(0, k));
      const r = await readFile(path);
      if (r instanceof VizError) assert.ok(!r.message.includes('\n') && r.message.includes(path), r.message);
    }
  });
});

describe('viz info says how much a truncation lost', () => {
  it('Chrome JSON: the byte of the cut, the size and the events kept', async () => {
    const bytes = readFileSync(join(FIXTURES, 'external', 'catapult', 'simple_trace.json'));
    const path = join(dir, 'info-cut.json');
    writeFileSync(path, bytes.subarray(0, 3000));
    const report = await info(path, { progress: false });
    assert.deepEqual(report.truncation, { atByte: 2926, ofBytes: 3000, eventsKept: 24, gzip: false });
    assert.match(formatInfo(report), /^truncated: at byte 2926 of 3000; 24 complete events kept$/m);
  });

  it('gzip: says the compressed stream ends early and how many events were kept', async () => {
    const bytes = gzipSync(readFileSync(join(FIXTURES, 'viztracer-generated', 'fib15.json')));
    const path = join(dir, 'info-cut.json.gz');
    writeFileSync(path, bytes.subarray(0, 10_000));
    const report = await info(path, { progress: false });
    assert.equal(report.truncation?.gzipStreamCut, true);
    assert.match(
      formatInfo(report),
      /^truncated: the gzip stream ends early \(10000 of 10000 compressed bytes read, \d+ bytes of content\); \d+ complete events kept$/m,
    );
  });

  it('an intact file has no truncation line', async () => {
    const report = await info(join(FIXTURES, 'external', 'catapult', 'simple_trace.json'), {
      progress: false,
    });
    assert.equal(report.truncation, undefined);
    assert.doesNotMatch(formatInfo(report), /truncated/);
  });
});
