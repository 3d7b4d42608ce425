import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readChrome } from '../../../src/formats/chrome/reader.js';
import { formatMicros, writeChrome } from '../../../src/formats/chrome/writer.js';
import { openOutput } from '../../../src/io/output.js';
import { readPath, traceFixtures } from '../../support/fixtures.js';
import { assertGolden } from '../../support/golden.js';

const tmp = mkdtempSync(join(tmpdir(), 'viz-writer-'));

async function roundTrip(path: string, out: string) {
  const first = await readPath(path, readChrome);
  // Write from a fresh read so the writer streams batches as in `viz convert`.
  const source = readChrome(await (await import('../../../src/io/input.js')).openInput(path));
  const output = openOutput(out, { gzip: out.endsWith('.gz') });
  await writeChrome(source, output);
  await output.commit();
  const second = await readPath(out, readChrome);
  return { first, second };
}

describe('Chrome JSON writer', () => {
  describe('round trip: reader -> writer -> reader gives the same events', () => {
    for (const fx of traceFixtures()) {
      it(fx.name, async () => {
        const out = join(tmp, basename(fx.name) + '.out.json');
        const { first, second } = await roundTrip(fx.path, out);
        assert.equal(second.source.meta.baseUs, first.source.meta.baseUs);
        assert.deepEqual(second.events, first.events);
        assert.deepEqual(second.source.meta.topLevel, first.source.meta.topLevel);
        // The output is plain, complete JSON any viewer can load.
        const parsed = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: unknown[] };
        assert.equal(parsed.traceEvents.length, first.events.length);
        assert.equal(second.source.diagnostics.get('truncated_input'), undefined);
      });
    }
  });

  describe('golden outputs', () => {
    for (const name of [
      'external/speedscope/simple-partial-trailing-comma.json',
      'external/catapult/flow_simple.json',
      'viztracer-generated/custom_events.json',
      'external/hta-pytorch/cpu_only_rank-34.pt.trace.json.gz',
    ]) {
      it(name, async () => {
        const fx = traceFixtures().find((f) => f.name === name)!;
        const out = join(tmp, 'golden-' + basename(name).replace(/\.gz$/, ''));
        await roundTrip(fx.path, out);
        assertGolden(`chrome/${basename(name).replace(/\.gz$/, '')}`, readFileSync(out, 'utf8'));
      });
    }
  });

  it('gzips by extension', async () => {
    const fx = traceFixtures().find((f) => f.name.endsWith('fib15.json'))!;
    const out = join(tmp, 'fib.json.gz');
    const { first, second } = await roundTrip(fx.path, out);
    const raw = readFileSync(out);
    assert.deepEqual([raw[0], raw[1]], [0x1f, 0x8b]);
    assert.ok(JSON.parse(gunzipSync(raw).toString()).traceEvents.length === first.events.length);
    assert.deepEqual(second.events, first.events);
  });

  it('writes microseconds exactly, including negative and epoch-sized values', () => {
    assert.equal(formatMicros(0, 1700000000123456), '1700000000123456');
    assert.equal(formatMicros(789, 1700000000123456), '1700000000123456.789');
    assert.equal(formatMicros(1500, 0), '1.5');
    assert.equal(formatMicros(10, 0), '0.01');
    assert.equal(formatMicros(-500, 0), '-0.5');
    assert.equal(formatMicros(-5500, 0), '-5.5');
    assert.equal(formatMicros(-1000, 0), '-1');
    assert.equal(formatMicros(1, -3), '-2.999');
  });

  it('an existing output file survives a failed conversion', async () => {
    const target = join(tmp, 'keep.json');
    writeFileSync(target, 'precious');
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '[{"ph":"B","ts":1,"pid":1,"tid":1}, garbage');
    const source = readChrome(await (await import('../../../src/io/input.js')).openInput(bad));
    const output = openOutput(target);
    await assert.rejects(async () => {
      await writeChrome(source, output);
      await output.commit();
    });
    output.abort();
    assert.equal(readFileSync(target, 'utf8'), 'precious');
  });
});
