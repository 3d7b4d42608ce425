#!/usr/bin/env node
// Chrome JSON -> Perfetto: time against whole-file JSON.parse (same run, same file), peak RSS,
// output size; ring dump -> Perfetto events/s (when a dump is given); writer-only events/s.
// Build first (npm run build). Usage:
//   node bench/perfetto.mjs [--size 160] [--big] [--ring FILE.vizdump] [--runs 3]
// --big also converts a 1 GB trace (generated once into .bench/) and checks peak RSS < 256 MB.
import { existsSync, rmSync } from 'node:fs';
import { median, runChild, table, verdict } from './lib/harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const size = Number(opt('--size', 160));
const runs = Number(opt('--runs', 3));
// The dump bench/record-hotpath.mjs leaves behind (4M calls of the native recorder), by default.
const defaultRing = new URL('../.bench/record-hotpath.vizdump', import.meta.url).pathname;
const ring = opt('--ring', existsSync(defaultRing) ? defaultRing : undefined);
const big = args.includes('--big');
const one = new URL('./lib/perfetto-one.mjs', import.meta.url).pathname;

async function input(mb, options = {}) {
  const { generateChromeTrace } = await import('./gen-chrome.mjs');
  const tag = options.uniqueArgs ? '-unique-args' : '';
  return generateChromeTrace(mb, `.bench/trace-${mb}mb${tag}.json`, options);
}

const file = await input(size);
const out = '.bench/perfetto-out.pftrace';
/** One conversion into a new file (replacing one would add the flush to disk the output makes then). */
function convertTo(from, env = {}) {
  rmSync(out, { force: true });
  return runChild(one, ['convert', from, out], env);
}
/** The run with the median time. */
function medianRun(list) {
  return [...list].sort((a, b) => a.seconds - b.seconds)[Math.floor(list.length / 2)];
}
const rows = [];
const parse = [];
const conv = [];
for (let i = 0; i < runs; i++) {
  parse.push(runChild(one, ['json-parse', file]));
  conv.push(convertTo(file));
}
const p = median(parse.map((r) => r.seconds));
const c = median(conv.map((r) => r.seconds));
const last = conv.at(-1);
const plain = convertTo(file, { VIZ_PERFETTO_COMPRESS: '0' });
const mb = (b) => (b / 1e6).toFixed(1);
rows.push({
  case: `JSON.parse whole file (${mb(last.inBytes)} MB)`,
  seconds: p.toFixed(2),
  'MB/s': (last.inBytes / 1e6 / p).toFixed(0),
  events: parse[0].events,
  'peak RSS MB': median(parse.map((r) => r.maxRssMB)).toFixed(0),
  output: '',
});
rows.push({
  case: 'viz convert --to perfetto',
  seconds: c.toFixed(2),
  'MB/s': (last.inBytes / 1e6 / c).toFixed(0),
  events: last.events,
  'peak RSS MB': median(conv.map((r) => r.maxRssMB)).toFixed(0),
  output: `${mb(last.outBytes)} MB (${((100 * last.outBytes) / last.inBytes).toFixed(1)}%)`,
});
rows.push({
  case: '  same, VIZ_PERFETTO_COMPRESS=0',
  seconds: plain.seconds.toFixed(2),
  'MB/s': (plain.inBytes / 1e6 / plain.seconds).toFixed(0),
  events: plain.events,
  'peak RSS MB': plain.maxRssMB.toFixed(0),
  output: `${mb(plain.outBytes)} MB (${((100 * plain.outBytes) / plain.inBytes).toFixed(1)}%)`,
});
// Args that never repeat (logged arguments): the encoded-args cache must not cost here.
const uniqueFile = await input(40, { uniqueArgs: true });
const uniqueParse = [];
const uniqueConv = [];
for (let i = 0; i < runs; i++) {
  uniqueParse.push(runChild(one, ['json-parse', uniqueFile]));
  uniqueConv.push(convertTo(uniqueFile));
}
const up = median(uniqueParse.map((r) => r.seconds));
const u = medianRun(uniqueConv);
rows.push({
  case: `viz convert, args never repeating (${mb(u.inBytes)} MB)`,
  seconds: u.seconds.toFixed(2),
  'MB/s': (u.inBytes / 1e6 / u.seconds).toFixed(0),
  events: u.events,
  'peak RSS MB': u.maxRssMB.toFixed(0),
  output: `${(up / u.seconds).toFixed(2)}x JSON.parse (${up.toFixed(2)} s)`,
});
const checks = [
  [`convert at least 2x faster than JSON.parse (${(p / c).toFixed(2)}x)`, p / c >= 2],
  [
    `output at most 20% of the input (${((100 * last.outBytes) / last.inBytes).toFixed(1)}%)`,
    last.outBytes <= 0.2 * last.inBytes,
  ],
];
if (big) {
  const bigFile = await input(1024);
  const r = convertTo(bigFile);
  rows.push({
    case: `viz convert --to perfetto, ${mb(r.inBytes)} MB input`,
    seconds: r.seconds.toFixed(2),
    'MB/s': (r.inBytes / 1e6 / r.seconds).toFixed(0),
    events: r.events,
    'peak RSS MB': r.maxRssMB.toFixed(0),
    output: `${mb(r.outBytes)} MB (${((100 * r.outBytes) / r.inBytes).toFixed(1)}%)`,
  });
  checks.push([`peak RSS under 256 MB for the 1 GB input (${r.maxRssMB.toFixed(0)} MB)`, r.maxRssMB < 256]);
}
if (ring) {
  // Interleaved, median of --runs each: with compression (the default), without, and without the
  // addon's loops (the JavaScript fallback).
  const cases = [
    ['ring dump -> perfetto', {}],
    ['  same, VIZ_PERFETTO_COMPRESS=0', { VIZ_PERFETTO_COMPRESS: '0' }],
    ['  same, JavaScript only (VIZ_NO_NATIVE=1)', { VIZ_NO_NATIVE: '1' }],
  ];
  const results = cases.map(() => []);
  for (let i = 0; i < runs; i++) cases.forEach(([, env], k) => results[k].push(convertTo(ring, env)));
  const [r, plain] = results.map((list) => medianRun(list));
  for (const [k, [label]] of cases.entries()) {
    const x = medianRun(results[k]);
    rows.push({
      case: `${label} (${mb(x.inBytes)} MB)`,
      seconds: x.seconds.toFixed(2),
      'MB/s': (x.inBytes / 1e6 / x.seconds).toFixed(0),
      events: x.events,
      'peak RSS MB': x.maxRssMB.toFixed(0),
      output: `${(x.events / x.seconds / 1e6).toFixed(2)} M events/s, ${mb(x.outBytes)} MB`,
    });
  }
  checks.push([
    `ring dump -> Perfetto at least 10 M events/s (${(r.events / r.seconds / 1e6).toFixed(2)})`,
    r.events / r.seconds >= 1e7,
  ]);
  checks.push([
    `  the same uncompressed (${(plain.events / plain.seconds / 1e6).toFixed(2)})`,
    plain.events / plain.seconds >= 1e7,
  ]);
} else console.log('(no ring dump: run bench/record-hotpath.mjs first, or pass --ring FILE)');
const w = runChild(one, ['writer-only', '4000000']);
rows.push({
  case: 'writer only (in-memory B/E events)',
  seconds: w.seconds.toFixed(2),
  'MB/s': '',
  events: w.events,
  'peak RSS MB': w.maxRssMB.toFixed(0),
  output: `${(w.events / w.seconds / 1e6).toFixed(2)} M events/s`,
});
const e = runChild(one, ['writer-only', '4000000', 'no-reorder']);
rows.push({
  case: '  nesting + encoder only (no reorder, no zlib)',
  seconds: e.seconds.toFixed(2),
  'MB/s': '',
  events: e.events,
  'peak RSS MB': e.maxRssMB.toFixed(0),
  output: `${(e.events / e.seconds / 1e6).toFixed(2)} M events/s`,
});
rmSync(out, { force: true });
console.log(table(rows, ['case', 'seconds', 'MB/s', 'events', 'peak RSS MB', 'output']));
console.log('');
for (const [label, ok] of checks) console.log(`${verdict(ok)}  ${label}`);
