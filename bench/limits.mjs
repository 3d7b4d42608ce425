#!/usr/bin/env node
// Resource limits: peak RSS and time of the commands on hostile sizes, against a baseline
// measured in the same run (a plain streaming read of the same file, and `node -e ''`).
//   1. a 2 GB Chrome trace (bench/gen-chrome.mjs): viz info, convert (Chrome, Perfetto), stats
//      must each stay under 256 MB RSS;
//   2. 1 million distinct function names, and 3. stack depth 100,000 (B/E and nested X): every
//      command must work or fail with a one-line message (never exit 70, a signal or a stack trace).
// Usage: node bench/limits.mjs [--quick] [--size MB] [--skip-big]   (--quick: 160 MB instead of 2 GB;
// --skip-big: only the many-names and deep-stack inputs). LIMITS_TIMEOUT_S: per command (300).
// `npm run build` first: the commands run from dist/ through bin/run.js.
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateChromeTrace } from './gen-chrome.mjs';
import { table, verdict } from './lib/harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BENCH = join(ROOT, '.bench');
const VIZ = join(ROOT, 'bin', 'run.js');
const RSS_PRELOAD = join(ROOT, 'bench', 'lib', 'maxrss.mjs');
const LIMIT_MB = 256;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const sizeArg = args.indexOf('--size');
const sizeMB = sizeArg >= 0 ? Number(args[sizeArg + 1]) : quick ? 160 : 2048;
const skipBig = args.includes('--skip-big');
/** A command still running after this long counts as a failure (a hang, or quadratic output). */
const TIMEOUT_S = Number(process.env.LIMITS_TIMEOUT_S ?? 300);

/** Runs `node [preload] ...argv`, returns seconds, peak RSS (MB), status and the last stderr line. */
function measure(argv, { stdout = 'ignore' } = {}) {
  const rssFile = join(BENCH, `maxrss-${process.pid}.txt`);
  rmSync(rssFile, { force: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(RSS_PRELOAD).href, ...argv], {
    env: { ...process.env, VIZ_MAXRSS_FILE: rssFile },
    stdio: ['ignore', stdout, 'pipe'],
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    timeout: TIMEOUT_S * 1000,
    killSignal: 'SIGKILL',
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const rssMB = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) / 1024 : Number.NaN;
  rmSync(rssFile, { force: true });
  const stderr = (r.stderr ?? '').trim().split('\n');
  const timedOut = r.error?.code === 'ETIMEDOUT';
  const status = timedOut ? `timeout ${TIMEOUT_S}s` : (r.status ?? `signal ${r.signal}`);
  return {
    seconds,
    rssMB,
    status,
    stderr,
    last: timedOut ? 'killed: no result in time' : (stderr.at(-1) ?? ''),
  };
}

const mb = (x) => (Number.isFinite(x) ? x.toFixed(0) : '?');

function vizRow(label, argv, bytes, limit) {
  const m = measure([VIZ, ...argv]);
  const clean =
    m.status === 0 ||
    (m.status !== 70 &&
      typeof m.status === 'number' &&
      m.stderr.filter((l) => l.startsWith('viz: ') && !l.startsWith('viz: warning')).length <= 2);
  const ok = clean && m.status !== 70 && (limit === undefined || m.rssMB <= limit);
  return {
    command: label,
    s: m.seconds.toFixed(1),
    'MB/s': bytes ? (bytes / 1e6 / m.seconds).toFixed(0) : '',
    'RSS MB': mb(m.rssMB),
    limit: limit ?? '',
    exit: m.status,
    result: verdict(ok),
    note: m.last.slice(0, 110),
  };
}

function writeLines(path, total, line, head = '[', sep = ',\n', tail = ']\n') {
  const fd = openSync(path, 'w');
  writeSync(fd, head);
  const batch = [];
  for (let i = 0; i < total; i++) {
    batch.push(line(i));
    if (batch.length === 10_000 || i === total - 1) {
      writeSync(fd, batch.join(sep) + (i === total - 1 ? '' : sep));
      batch.length = 0;
    }
  }
  writeSync(fd, tail);
  closeSync(fd);
  return path;
}

function genManyNames(path, n) {
  if (existsSync(path)) return path;
  return writeLines(
    path,
    n,
    (i) => `{"ph":"X","name":"fn_${i} (src/mod${i % 1000}.js:${i})","ts":${i * 3},"dur":2,"pid":1,"tid":1}`,
    '{"traceEvents":[\n',
    ',\n',
    '\n]}\n',
  );
}

function genDeepBE(path, depth) {
  if (existsSync(path)) return path;
  return writeLines(path, 2 * depth, (i) =>
    i < depth
      ? `{"ph":"B","name":"f${i % 7}","ts":${i},"pid":1,"tid":1}`
      : `{"ph":"E","ts":${i + 1},"pid":1,"tid":1}`,
  );
}

function genDeepX(path, depth) {
  if (existsSync(path)) return path;
  return writeLines(
    path,
    depth,
    (i) => `{"ph":"X","name":"g${i % 5}","ts":${i},"dur":${2 * (depth - i)},"pid":1,"tid":1}`,
  );
}

mkdirSync(BENCH, { recursive: true });
if (!existsSync(RSS_PRELOAD)) throw new Error(`missing ${RSS_PRELOAD}`);
const out = join(BENCH, 'limits-out');
mkdirSync(out, { recursive: true });
let failed = false;

if (!skipBig) {
  // 1. Big input.
  const big = join(BENCH, `trace-${sizeMB}mb.json`);
  process.stderr.write(`limits: ${big} (generating if missing)\n`);
  await generateChromeTrace(sizeMB, big);
  const bigBytes = statSync(big).size;
  const base = measure([
    '-e',
    `const s=require('fs').createReadStream(process.argv[1],{highWaterMark:1<<20});let n=0;s.on('data',c=>{n+=c.length});s.on('end',()=>{})`,
    big,
  ]);
  const idle = measure(['-e', '']);
  const rows = [
    {
      command: 'baseline: node -e ""',
      s: idle.seconds.toFixed(1),
      'MB/s': '',
      'RSS MB': mb(idle.rssMB),
      limit: '',
      exit: idle.status,
      result: '',
      note: '',
    },
    {
      command: 'baseline: stream read',
      s: base.seconds.toFixed(1),
      'MB/s': (bigBytes / 1e6 / base.seconds).toFixed(0),
      'RSS MB': mb(base.rssMB),
      limit: '',
      exit: base.status,
      result: '',
      note: '',
    },
  ];
  const perfettoOut = join(out, 'big.perfetto-trace');
  for (const [label, argv] of [
    ['viz info', ['info', big]],
    ['viz convert --to chrome (stdout)', ['convert', big, '--to', 'chrome']],
    ['viz convert -o .perfetto-trace', ['convert', big, '-o', perfettoOut]],
    ['viz stats', ['stats', big, '--top', '5']],
  ]) {
    process.stderr.write(`limits: ${label} on ${(bigBytes / 1e9).toFixed(2)} GB\n`);
    const row = vizRow(label, argv, bigBytes, LIMIT_MB);
    failed ||= row.result !== 'PASS';
    rows.push(row);
    rmSync(perfettoOut, { force: true });
  }
  console.log(`\n## ${(bigBytes / 1e9).toFixed(2)} GB Chrome trace (${big}); limit ${LIMIT_MB} MB RSS\n`);
  console.log(table(rows, ['command', 's', 'MB/s', 'RSS MB', 'limit', 'exit', 'result', 'note']));
}

// 2 and 3. Many names, deep stacks: work or fail cleanly (no RSS limit; RSS reported).
const cases = [
  ['1M distinct names', genManyNames(join(BENCH, 'names-1m.json'), 1_000_000)],
  ['depth 100k (B/E)', genDeepBE(join(BENCH, 'deep-100k-be.json'), 100_000)],
  ['depth 100k (X)', genDeepX(join(BENCH, 'deep-100k-x.json'), 100_000)],
];
for (const [title, path] of cases) {
  const bytes = statSync(path).size;
  const rows2 = [];
  for (const [label, argv] of [
    ['viz info', ['info', path]],
    ['viz convert --to chrome', ['convert', path, '-o', join(out, 'x.json')]],
    ['viz convert --to perfetto', ['convert', path, '-o', join(out, 'x.perfetto-trace')]],
    ['viz convert --to speedscope', ['convert', path, '-o', join(out, 'x.speedscope.json')]],
    ['viz stats', ['stats', path, '--top', '5']],
    ['viz flamegraph (svg)', ['flamegraph', path, '-o', join(out, 'x.svg')]],
    ['viz flamegraph (folded)', ['flamegraph', path, '-o', join(out, 'x.folded')]],
  ]) {
    process.stderr.write(`limits: ${label} on ${title}\n`);
    const row = vizRow(label, argv, bytes);
    failed ||= row.result !== 'PASS';
    rows2.push(row);
  }
  console.log(`\n## ${title} (${(bytes / 1e6).toFixed(0)} MB)\n`);
  console.log(table(rows2, ['command', 's', 'MB/s', 'RSS MB', 'exit', 'result', 'note']));
}
rmSync(out, { recursive: true, force: true });
writeFileSync(join(BENCH, 'limits-last.txt'), `${new Date().toISOString()} ${failed ? 'FAIL' : 'PASS'}\n`);
process.exitCode = failed ? 1 : 0;
