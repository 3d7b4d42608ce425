/**
 * Writes a VizTracer-like Chrome JSON trace of `n` complete (`X`) events: a main
 * thread running recursive calls (fib-shaped trees of depth up to 12) plus a
 * worker thread, microsecond timestamps with decimals, names with file and line.
 */
import { createWriteStream } from 'node:fs';

export async function writeBigTrace(path: string, n: number): Promise<void> {
  const out = createWriteStream(path);
  const write = (s: string): Promise<void> =>
    new Promise((resolve) => (out.write(s) ? resolve() : out.once('drain', () => resolve())));
  await write(
    '{"traceEvents":[\n{"ph":"M","pid":1,"tid":1,"name":"process_name","args":{"name":"MainProcess"}},\n',
  );
  await write('{"ph":"M","pid":1,"tid":1,"name":"thread_name","args":{"name":"MainThread"}},\n');
  await write('{"ph":"M","pid":1,"tid":2,"name":"thread_name","args":{"name":"Worker"}}');
  let count = 0;
  let t = 1000;
  const parts: string[] = [];
  const names = [
    'fib (/app/fib.py:3)',
    'step (/app/loop.py:10)',
    'parse (/app/io.py:42)',
    'render (/app/ui.py:7)',
    'helper (/app/util.py:99)',
  ];
  // Emits a tree in end order (children first), like VizTracer; returns its duration.
  const tree = (depth: number, start: number, tid: number, k: number): number => {
    let cur = start + 0.25;
    if (depth > 0 && count < n) {
      cur += tree(depth - 1, cur, tid, k + 1) + 0.1;
      if (count < n) cur += tree(depth - 2 < 0 ? 0 : depth - 2, cur, tid, k + 2) + 0.1;
    }
    const dur = cur - start + 0.25;
    if (count < n) {
      parts.push(
        `{"pid":1,"tid":${tid},"ts":${start.toFixed(3)},"dur":${dur.toFixed(3)},"ph":"X","name":"${names[k % names.length]}","cat":"FEE"}`,
      );
      count++;
    }
    return dur;
  };
  while (count < n) {
    const tid = count % 10 === 0 ? 2 : 1;
    t += tree(12, t, tid, 0) + 1;
    if (parts.length > 0) {
      await write(',\n' + parts.join(',\n'));
      parts.length = 0;
    }
  }
  await write('\n]}\n');
  await new Promise<void>((resolve) => out.end(resolve));
}
