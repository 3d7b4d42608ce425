// Generates a synthetic Chrome JSON trace of about N megabytes for bench/perfetto.mjs
// (used when the shared generator bench/gen-chrome.mjs is absent).
// Usage: node bench/perfetto-gen.mjs OUT.json SIZE_MB
// Shape: 4 threads, call trees of depth <= 12 written as X events in end order (like VizTracer),
// some B/E pairs, instants, counters and args; names with source locations.
import { createWriteStream } from 'node:fs';

const [out, mbArg] = process.argv.slice(2);
if (!out) {
  console.error('usage: node bench/perfetto-gen.mjs OUT.json SIZE_MB');
  process.exit(2);
}
const target = Number(mbArg ?? 150) * 1024 * 1024;
const ws = createWriteStream(out);
let written = 0;
let seed = 42;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const names = Array.from({ length: 200 }, (_, i) => `fn_${i} (/src/module_${i % 17}.py:${10 + i})`);
const write = (s) => {
  written += s.length;
  return ws.write(s);
};
async function main() {
  write('{"traceEvents":[\n');
  write('{"ph":"M","pid":1,"tid":1,"name":"process_name","args":{"name":"bench"}}');
  const ts = [1_000_000, 1_000_000, 1_000_000, 1_000_000];
  let buf = [];
  while (written < target) {
    const tid = 1 + Math.floor(rnd() * 4);
    // one call tree: emit in end order (children first)
    const tree = [];
    const build = (start, depth) => {
      let t = start;
      const kids = depth < 12 ? Math.floor(rnd() * 3) : 0;
      const childList = [];
      for (let k = 0; k < kids; k++) {
        t += 0.5 + Math.round(rnd() * 1000) / 1000;
        const end = build(t, depth + 1);
        t = end;
      }
      const end = t + 1 + Math.round(rnd() * 1000) / 1000;
      const name = names[Math.floor(rnd() * names.length)];
      tree.push(
        `{"pid":1,"tid":${tid},"ts":${start.toFixed(3)},"ph":"X","cat":"FEE","dur":${(end - start).toFixed(3)},"name":${JSON.stringify(name)}${rnd() < 0.1 ? `,"args":{"n":${Math.floor(rnd() * 100)},"s":"v${Math.floor(rnd() * 10)}"}` : ''}}`,
      );
      return end;
    };
    const end = build(ts[tid - 1], 0);
    ts[tid - 1] = end + 2;
    for (const e of tree) buf.push(e);
    if (rnd() < 0.05)
      buf.push(`{"pid":1,"tid":${tid},"ts":${end.toFixed(3)},"ph":"i","s":"t","name":"mark"}`);
    if (rnd() < 0.05)
      buf.push(
        `{"pid":1,"tid":${tid},"ts":${end.toFixed(3)},"ph":"C","name":"mem","args":{"rss":${Math.floor(rnd() * 1e6)}}}`,
      );
    if (buf.length > 2000) {
      if (!write(',\n' + buf.join(',\n'))) await new Promise((r) => ws.once('drain', r));
      buf = [];
    }
  }
  if (buf.length) write(',\n' + buf.join(',\n'));
  write('\n]}\n');
  ws.end();
  await new Promise((r) => ws.on('finish', r));
  console.error(`wrote ${out}: ${(written / 1048576).toFixed(1)} MB`);
}
await main();
