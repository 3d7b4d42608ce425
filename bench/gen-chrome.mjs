#!/usr/bin/env node
// Generates a realistic Chrome trace JSON of a given size for benchmarks:
// X, B/E, i, C and M events with realistic names and args, several threads.
// Usage: node bench/gen-chrome.mjs [sizeMB=160] [out=.bench/trace-<size>mb.json]
import { createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

// `uniqueArgs`: every X event's args differ (a call counter), as in traces of logged arguments.
export async function generateChromeTrace(sizeMB, out, { uniqueArgs = false } = {}) {
  if (existsSync(out) && statSync(out).size >= sizeMB * 1e6) return out;
  mkdirSync(dirname(out), { recursive: true });
  const target = sizeMB * 1e6;
  const stream = createWriteStream(out + '.tmp', { highWaterMark: 1 << 20 });
  const names = [];
  const files = [
    'src/server.js',
    'src/router.js',
    'lib/db/pool.js',
    'node_modules/express/lib/router/index.js',
    'src/render/template.js',
  ];
  for (let i = 0; i < 400; i++)
    names.push(
      `${['handle', 'parse', 'query', 'render', 'validate', 'Serializer.write', 'Cache.get'][i % 7]}${i} (${files[i % files.length]}:${10 + i})`,
    );
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let written = 0;
  const write = (s) => {
    written += s.length;
    return stream.write(s) ? null : new Promise((r) => stream.once('drain', r));
  };
  let first = true;
  const ev = async (obj) => {
    const p = write((first ? '' : ',\n') + JSON.stringify(obj));
    first = false;
    if (p) await p;
  };
  await write('{"traceEvents":[\n');
  const pid = 4242;
  const tids = [4242, 4243, 4244, 4245];
  for (const tid of tids)
    await ev({
      ph: 'M',
      name: 'thread_name',
      pid,
      tid,
      ts: 0,
      args: { name: tid === pid ? 'main' : `worker-${tid - pid}` },
    });
  await ev({ ph: 'M', name: 'process_name', pid, tid: pid, ts: 0, args: { name: 'node server.js' } });
  const clock = new Map(tids.map((t) => [t, 1700000000000000 + t]));
  // A recursive call tree per "request": B/E at the top, X below, instants and counters in between.
  let calls = 0;
  const emitTree = async (tid, depth) => {
    let t = clock.get(tid);
    const name = names[Math.floor(rand() * names.length)];
    if (depth === 0) {
      await ev({
        ph: 'B',
        name,
        cat: 'request',
        pid,
        tid,
        ts: t,
        args: { url: `/api/items/${Math.floor(rand() * 1000)}`, method: 'GET' },
      });
      clock.set(tid, t + 1.5);
      const kids = 2 + Math.floor(rand() * 4);
      for (let k = 0; k < kids; k++) await emitTree(tid, depth + 1);
      t = clock.get(tid) + 2.25;
      await ev({ ph: 'E', pid, tid, ts: t, args: { status: 200 } });
      clock.set(tid, t + 0.5);
      return;
    }
    const start = t;
    clock.set(tid, t + 0.125);
    if (depth < 4) {
      const kids = Math.floor(rand() * 3);
      for (let k = 0; k < kids; k++) await emitTree(tid, depth + 1);
    }
    if (rand() < 0.05)
      await ev({
        ph: 'i',
        name: 'cache miss',
        cat: 'cache',
        s: 't',
        pid,
        tid,
        ts: clock.get(tid),
        args: { key: `item:${Math.floor(rand() * 1e6)}` },
      });
    const end = clock.get(tid) + Math.round(rand() * 50000) / 1000;
    await ev({
      ph: 'X',
      name,
      cat: 'function',
      pid,
      tid,
      ts: start,
      dur: Math.round((end - start) * 1000) / 1000,
      args: uniqueArgs
        ? { depth, items: Math.floor(rand() * 100), call: calls++ }
        : { depth, items: Math.floor(rand() * 100) },
    });
    clock.set(tid, end + 0.25);
  };
  let n = 0;
  while (written < target) {
    const tid = tids[n % tids.length];
    await emitTree(tid, 0);
    if (n % 16 === 0)
      await ev({
        ph: 'C',
        name: 'heap',
        pid,
        tid: pid,
        ts: clock.get(pid),
        args: { used: Math.floor(rand() * 1e8), total: 2e8 },
      });
    n++;
  }
  await write('\n],"displayTimeUnit":"ms","otherData":{"generator":"bench/gen-chrome.mjs"}}\n');
  await new Promise((r) => stream.end(r));
  const { renameSync } = await import('node:fs');
  renameSync(out + '.tmp', out);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const size = Number(process.argv[2] ?? 160);
  const out = process.argv[3] ?? `.bench/trace-${size}mb.json`;
  const t0 = Date.now();
  await generateChromeTrace(size, out);
  console.log(
    `${out}: ${(statSync(out).size / 1e6).toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}
