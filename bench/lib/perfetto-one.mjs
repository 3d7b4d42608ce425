// One measurement for bench/perfetto.mjs, in its own process so peak RSS is its own.
// Prints {mode, seconds, events, inBytes, outBytes, maxRssMB} as JSON on the last line.
// Modes: json-parse FILE | convert FILE OUT | writer-only N [no-reorder]
import { readFileSync, statSync } from 'node:fs';

const [mode, file, out] = process.argv.slice(2);
const t0 = performance.now();
let events = 0;
let inBytes = 0;
let outBytes = 0;
if (mode === 'json-parse') {
  inBytes = statSync(file).size;
  const trace = JSON.parse(readFileSync(file, 'utf8'));
  events = (Array.isArray(trace) ? trace : trace.traceEvents).length;
} else if (mode === 'convert') {
  inBytes = statSync(file).size;
  const { convert } = await import('../../dist/src/ops/convert.js');
  const r = await convert(file, { to: 'perfetto', output: out, progress: false });
  events = r.events;
  outBytes = statSync(out).size;
} else if (mode === 'writer-only') {
  // Events made in memory (enter/exit pairs as the ring reader yields them), no input parsing.
  const n = Number(file);
  const { writePerfetto } = await import('../../dist/src/formats/perfetto/writer.js');
  const { Diagnostics } = await import('../../dist/src/model/diagnostics.js');
  const { emptyMeta } = await import('../../dist/src/model/source.js');
  const call = (ph, name, ts, tid) => ({
    ph,
    name,
    cat: '',
    ts,
    dur: -1,
    pid: 1,
    tid,
    id: '',
    args: '',
    extra: undefined,
  });
  const names = Array.from({ length: 300 }, (_, i) => `fn${i} (/app/src/file${i % 20}.js:${i + 1}:3)`);
  const source = {
    meta: { ...emptyMeta('ring'), baseUs: 1_700_000_000_000_000 },
    diagnostics: new Diagnostics(),
    bytesRead: 0,
    async *batches() {
      let ts = 0;
      let made = 0;
      const depth = [0, 0, 0, 0];
      const stacks = [[], [], [], []];
      while (made < n) {
        const batch = [];
        for (let i = 0; i < 4096 && made < n; i++, made++) {
          const t = made % 4;
          ts += 7;
          const st = stacks[t];
          if (st.length > 0 && (st.length >= 12 || (made * 2654435761) % 7 < 3)) {
            st.pop();
            batch.push(call('E', '', ts, t + 1));
          } else {
            const name = names[(made * 40503) % names.length];
            st.push(name);
            batch.push(call('B', name, ts, t + 1));
          }
          depth[t] = st.length;
        }
        yield batch;
      }
    },
  };
  const sink = { write: async (c) => void (outBytes += c.length) };
  if (out === 'no-reorder') {
    // The events are generated in time order: feed the nesting rules and the encoder directly,
    // without timeOrdered's window, to show what the encoder itself costs.
    const { PerfettoEncoder } = await import('../../dist/src/formats/perfetto/writer.js');
    const { SliceNester } = await import('../../dist/src/model/nesting.js');
    const enc = new PerfettoEncoder(source.meta, source.diagnostics, {});
    const nester = new SliceNester(enc, source.diagnostics);
    for await (const batch of source.batches()) {
      nester.push(batch);
      events += batch.length;
      if (enc.w.pos >= 1 << 20) outBytes += enc.w.take().length;
    }
    nester.finish();
    enc.finish(nester);
    outBytes += enc.w.take().length;
  } else {
    const r = await writePerfetto(source, sink);
    events = r.events;
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
const seconds = (performance.now() - t0) / 1000;
const maxRssMB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ mode, seconds, events, inBytes, outBytes, maxRssMB }));
