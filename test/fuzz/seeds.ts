/**
 * Seed inputs for every readable format in the registry: the small Chrome fixtures (plain and
 * gzipped), recorded ring dumps and folded stacks from `test/fuzz/corpus/`, and Perfetto files
 * made by the Perfetto writer from Chrome fixtures (so the writer's current output is what gets
 * fuzzed). A format added to the registry without seeds here makes the coverage test fail.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { allFormats, formatByName } from '../../src/formats/registry.js';
import { convert } from '../../src/ops/convert.js';
import { FIXTURES, ROOT, traceFixtures } from '../support/fixtures.js';
import type { Seed } from './mutate.js';

export const CORPUS = join(ROOT, 'test', 'fuzz', 'corpus');

/** Chrome fixtures small enough to fuzz quickly. */
export function smallChromeFixtures(maxBytes = 8 * 1024): { name: string; path: string }[] {
  return traceFixtures().filter((f) => statSync(f.path).size <= maxBytes);
}

export async function buildSeeds(): Promise<Map<string, Seed[]>> {
  const seeds = new Map<string, Seed[]>();
  const add = (s: Seed): void => {
    const list = seeds.get(s.format) ?? [];
    list.push(s);
    seeds.set(s.format, list);
  };
  for (const f of smallChromeFixtures()) {
    const bytes = readFileSync(f.path);
    const fileName = basename(f.path);
    add({ format: 'chrome', fileName, bytes, text: !fileName.endsWith('.gz') });
  }
  const simple = readFileSync(join(FIXTURES, 'external', 'catapult', 'simple_trace.json'));
  add({ format: 'chrome', fileName: 'simple_trace.json.gz', bytes: gzipSync(simple), text: false });
  // Text seeds with the field shapes other producers use.
  add({
    format: 'chrome',
    fileName: 'shapes.json',
    bytes: Buffer.from(
      '{"displayTimeUnit":"ns","traceEvents":[{"ph":"B","name":"a","cat":"c","ts":1.5,"pid":"p","tid":"t","args":{"x":[1,{"y":null}]}},' +
        '{"ph":"X","name":"b","ts":2,"dur":0.25,"pid":1,"tid":2,"id":"0x1","id2":{"local":"0x2"}},{"ph":"E","ts":3,"pid":"p","tid":"t"},' +
        '{"ph":"C","name":"ctr","ts":4,"pid":1,"args":{"v":1e3}},{"ph":"M","name":"thread_name","pid":1,"tid":2,"args":{"name":"w"}}],' +
        '"metadata":{"k":"v"},"stackFrames":{"1":{"name":"f"}}}',
    ),
    text: true,
  });

  for (const entry of readdirSync(CORPUS)) {
    const bytes = readFileSync(join(CORPUS, entry));
    if (entry.endsWith('.vizdump')) add({ format: 'ring', fileName: entry, bytes, text: false });
    else if (entry.endsWith('.folded')) add({ format: 'folded', fileName: entry, bytes, text: true });
  }

  if (formatByName('perfetto')?.write) {
    const dir = mkdtempSync(join(tmpdir(), 'viz-fuzz-seeds-'));
    for (const name of [
      'simple_trace.json',
      'async_begin_end.json',
      'instance_counters.json',
      'flow_simple.json',
    ]) {
      const src = join(FIXTURES, 'external', 'catapult', name);
      const out = join(dir, name.replace(/\.json$/, '.perfetto-trace'));
      await convert(src, { to: 'perfetto', output: out, progress: false });
      add({ format: 'perfetto', fileName: basename(out), bytes: readFileSync(out), text: false });
    }
    add({
      format: 'perfetto',
      fileName: 'simple_trace.pftrace.gz',
      bytes: gzipSync(seeds.get('perfetto')![0]!.bytes),
      text: false,
    });
  }
  return seeds;
}

/** Readable formats in the registry that have no seeds (the coverage test lists them). */
export function unseededFormats(seeds: Map<string, Seed[]>): string[] {
  return allFormats()
    .filter((f) => f.read && !seeds.has(f.name))
    .map((f) => f.name);
}
