/**
 * Depth limits, run in the fuzz worker (1 MB stack like the CLI's main thread, limited heap):
 * 100,000 nested slices (B/E and X) and 100,000-deep JSON values in `args` and at the top level
 * go through every pipeline without recursing per level: a result, or a one-line error. The
 * Perfetto writer says that it caps depth at 512 per track. Bigger inputs (2 GB, a million
 * names) are in bench/limits.mjs.
 */
import { strict as assert } from 'node:assert';
import { FuzzRunner } from '../fuzz/harness.js';
import type { Pipeline } from '../fuzz/protocol.js';

const DEPTH = 100_000;
const ALL: Pipeline[] = ['read', 'info', 'chrome', 'perfetto', 'stats', 'flamegraph'];

function deepBE(depth: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < depth; i++) parts.push(`{"ph":"B","name":"f${i % 7}","ts":${i},"pid":1,"tid":1}`);
  for (let i = 0; i < depth; i++) parts.push(`{"ph":"E","ts":${depth + i + 1},"pid":1,"tid":1}`);
  return Buffer.from(`[${parts.join(',\n')}]`);
}

function deepX(depth: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < depth; i++)
    parts.push(`{"ph":"X","name":"g${i % 5}","ts":${i},"dur":${2 * (depth - i)},"pid":1,"tid":1}`);
  return Buffer.from(`[${parts.join(',\n')}]`);
}

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe('depth limits', function () {
  this.timeout(600_000);
  const runner = new FuzzRunner({ timeoutMs: 120_000, heapMb: 512 });
  after(() => runner.close());

  const be = deepBE(DEPTH);
  for (const pipeline of ALL) {
    it(`stack depth ${DEPTH} (B/E): ${pipeline}`, async () => {
      const v = await runner.check(pipeline, 'deep-be.json', be, 'deep B/E');
      assert.equal(v.outcome, 'ok', JSON.stringify(v).slice(0, 300));
      if (pipeline === 'perfetto')
        assert.ok(
          v.outcome === 'ok' && v.diagnostics?.includes('slice_depth_truncated'),
          JSON.stringify(v.diagnostics),
        );
    });
  }

  const x = deepX(DEPTH);
  for (const pipeline of ['read', 'perfetto', 'stats'] as const) {
    it(`stack depth ${DEPTH} (nested X): ${pipeline}`, async () => {
      const v = await runner.check(pipeline, 'deep-x.json', x, 'deep X');
      assert.equal(v.outcome, 'ok', JSON.stringify(v).slice(0, 300));
    });
  }

  const deepArgs = Buffer.from(
    `[{"ph":"X","name":"a","ts":1,"dur":2,"pid":1,"tid":1,"args":{"v":${nested(DEPTH)}}},{"ph":"i","name":"b","ts":3,"pid":1,"tid":1,"s":"t"}]`,
  );
  for (const pipeline of ALL) {
    it(`args nested ${DEPTH} deep: ${pipeline}`, async () => {
      await runner.check(pipeline, 'deep-args.json', deepArgs, 'deep args');
    });
  }

  const deepTop = Buffer.from(
    `{"traceEvents":[{"ph":"X","name":"a","ts":1,"dur":2,"pid":1,"tid":1}],"metadata":${nested(DEPTH)}}`,
  );
  for (const pipeline of ALL) {
    it(`a top-level value nested ${DEPTH} deep: ${pipeline}`, async () => {
      await runner.check(pipeline, 'deep-top.json', deepTop, 'deep top-level');
    });
  }
});
