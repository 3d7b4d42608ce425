/**
 * Fuzz worker: runs one pipeline on one input file per message and reports how it ended.
 * Runs in a worker thread with a heap limit, so a hang can be terminated and an allocation
 * blow-up ends the worker instead of the test process.
 */
import { rmSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { VizError } from '../../src/model/errors.js';
import { openTrace } from '../../src/ops/open.js';
import { info } from '../../src/ops/info.js';
import { convert } from '../../src/ops/convert.js';
import { stats } from '../../src/analyze/stats/index.js';
import { flamegraph } from '../../src/analyze/flamegraph/index.js';
import type { Pipeline, CaseRequest, CaseResult } from './protocol.js';

// Nothing is registered here: the cases see exactly the formats the CLI sees.
async function run(
  pipeline: Pipeline,
  path: string,
  out: string,
): Promise<{ events: number; diagnostics: string[] }> {
  switch (pipeline) {
    case 'read': {
      const { source } = await openTrace(path);
      let events = 0;
      for await (const b of source.batches()) events += b.length;
      return { events, diagnostics: source.diagnostics.list().map((d) => d.code) };
    }
    case 'info': {
      const r = await info(path, { progress: false });
      return { events: r.events, diagnostics: r.diagnostics.map((d) => d.code) };
    }
    case 'chrome':
    case 'perfetto':
    case 'speedscope':
    case 'html': {
      try {
        const r = await convert(path, { to: pipeline, output: out, progress: false });
        return { events: r.events, diagnostics: r.diagnostics.list().map((d) => d.code) };
      } finally {
        rmSync(out, { force: true });
      }
    }
    case 'stats': {
      const r = await stats(path, { progress: false });
      return { events: r.functions, diagnostics: r.diagnostics.map((d) => d.code) };
    }
    case 'flamegraph': {
      try {
        const r = await flamegraph(path, { output: out + '.svg' });
        return { events: r.items, diagnostics: r.diagnostics.list().map((d) => d.code) };
      } finally {
        rmSync(out + '.svg', { force: true });
      }
    }
  }
}

parentPort!.on('message', (req: CaseRequest) => {
  const start = performance.now();
  run(req.pipeline, req.path, req.out).then(
    (r): void => {
      const res: CaseResult = {
        id: req.id,
        outcome: 'ok',
        events: r.events,
        diagnostics: r.diagnostics,
        ms: performance.now() - start,
      };
      parentPort!.postMessage(res);
    },
    (err: unknown): void => {
      const e = err as Error;
      const res: CaseResult = {
        id: req.id,
        outcome: err instanceof VizError ? 'error' : 'crash',
        message: e?.message ?? String(err),
        stack: e?.stack,
        ms: performance.now() - start,
      };
      parentPort!.postMessage(res);
    },
  );
});
