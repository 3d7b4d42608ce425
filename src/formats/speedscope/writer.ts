/**
 * speedscope's own file format (https://www.speedscope.app/file-format-schema.json):
 * one evented profile per thread, named after its process and thread, and one
 * shared frame table. speedscope loads this format in linear time, where its
 * Chrome JSON importer is quadratic in the number of events.
 *
 * Nesting is decided by `timeOrdered` + `SliceNester` (the rules every writer
 * shares): each `enter` becomes an `O` event and each `exit` a `C` event, in the
 * order the nester produces them, which is exactly the order speedscope needs.
 *
 * Streaming: the events of each thread are appended to a per-thread buffer that
 * is spilled in chunks to one temporary file, so memory is bounded by the number
 * of threads and distinct frame names. At the end the document is written:
 * header, each profile with its chunks copied from the temporary file, then the
 * frame table (JSON key order is free; the frame table is complete only then).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Output } from '../../io/output.js';
import { type Ident, type TraceEvent, parseArgs, threadKey } from '../../model/event.js';
import { SliceNester, type OpenSlice, type ThreadStack } from '../../model/nesting.js';
import { timeOrdered, type Ordering } from '../../model/order.js';
import type { TraceSource } from '../../model/source.js';

import { SPEEDSCOPE_SCHEMA } from './sniff.js';

export { SPEEDSCOPE_SCHEMA, sniffSpeedscope } from './sniff.js';

export interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number;
}

/** Splits VizTracer-style names `fib (/path/fib.py:3)` into name, file and line. */
export function frameFromName(name: string): SpeedscopeFrame {
  const m = /^(.+?) \(([^()]+):(\d+)\)$/.exec(name);
  if (!m) return { name };
  return { name: m[1]!, file: m[2]!, line: Number(m[3]) };
}

interface ThreadOut {
  pid: Ident;
  tid: Ident;
  /** Pending event JSON bytes, spilled when nearly full. */
  buf: Buffer;
  len: number;
  /** [offset, length] of spilled chunks in the temporary file. */
  chunks: [number, number][];
  events: number;
  first: number;
  last: number;
}

/**
 * Per-thread buffers start small and grow to `MAX_BUFFER_BYTES`; when all of them
 * together exceed `TOTAL_BUFFER_BYTES` (traces with thousands of threads), every
 * buffer is spilled and shrunk, so memory stays bounded whatever the thread count.
 */
const MIN_BUFFER_BYTES = 4 * 1024;
const MAX_BUFFER_BYTES = 128 * 1024;
const TOTAL_BUFFER_BYTES = 32 * 1024 * 1024;
/** Longest event: `,{"type":"O","frame":` + 16 digits + `,"at":` + 24 characters + `}`. */
const MAX_EVENT_BYTES = 80;
const OPEN_EVENT = Buffer.from('{"type":"O","frame":', 'latin1');
const CLOSE_EVENT = Buffer.from('{"type":"C","frame":', 'latin1');
const AT = Buffer.from(',"at":', 'latin1');
const DIGITS = Buffer.alloc(24);

/** Writes a number as JSON at `pos`; returns the new end. Integers (the common case) without a string. */
function writeNumber(buf: Buffer, pos: number, n: number): number {
  if (!Number.isSafeInteger(n)) return pos + buf.write(String(n), pos, 'latin1');
  if (n < 0) {
    buf[pos++] = 0x2d;
    n = -n;
  }
  let d = 0;
  do {
    const q = Math.floor(n / 10);
    DIGITS[d++] = 0x30 + (n - q * 10);
    n = q;
  } while (n > 0);
  while (d > 0) buf[pos++] = DIGITS[--d]!;
  return pos;
}

export interface SpeedscopeWriteOptions {
  /** Document name shown by speedscope (the input file's name). */
  name?: string;
  exporter?: string;
  /** Buffer sizes in bytes (tests use tiny ones to exercise spilling). */
  buffers?: { min: number; max: number; total: number };
  /** `timeOrdered`'s `external` and `lateEvents` (see `convert`). */
  ordering?: Ordering;
}

export async function writeSpeedscope(
  source: TraceSource,
  out: Output,
  options: SpeedscopeWriteOptions = {},
): Promise<{ events: number; profiles: number; frames: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'viz-speedscope-'));
  const spillPath = join(dir, 'events.json');
  const fd = openSync(spillPath, 'w+');
  try {
    let spilled = 0;
    const frameIndex = new Map<string, number>();
    const frames: SpeedscopeFrame[] = [];
    const threads = new Map<ThreadStack, ThreadOut>();
    const processNames = new Map<Ident, string>();
    const threadNames = new Map<string, string>();

    const frameOf = (name: string): number => {
      let ix = frameIndex.get(name);
      if (ix === undefined) {
        ix = frames.length;
        frames.push(frameFromName(name));
        frameIndex.set(name, ix);
      }
      return ix;
    };
    const spill = (t: ThreadOut): void => {
      if (t.len === 0) return;
      writeSync(fd, t.buf, 0, t.len, spilled);
      t.chunks.push([spilled, t.len]);
      spilled += t.len;
      t.len = 0;
    };
    const minBuffer = Math.max(options.buffers?.min ?? MIN_BUFFER_BYTES, 2 * MAX_EVENT_BYTES);
    const maxBuffer = Math.max(options.buffers?.max ?? MAX_BUFFER_BYTES, minBuffer);
    const totalBuffer = options.buffers?.total ?? TOTAL_BUFFER_BYTES;
    let buffered = 0;
    const makeRoom = (t: ThreadOut): void => {
      if (t.buf.length >= maxBuffer) return spill(t);
      const bigger = Buffer.allocUnsafe(t.buf.length * 2);
      t.buf.copy(bigger, 0, 0, t.len);
      buffered += t.buf.length;
      t.buf = bigger;
      if (buffered > totalBuffer) {
        for (const other of threads.values()) {
          spill(other);
          if (other.buf.length > minBuffer) other.buf = Buffer.allocUnsafe(minBuffer);
        }
        buffered = threads.size * minBuffer;
      }
    };
    let lastThread: ThreadStack | undefined;
    let lastOut: ThreadOut | undefined;
    const push = (th: ThreadStack, open: boolean, frame: number, at: number): void => {
      let t = th === lastThread ? lastOut : threads.get(th);
      if (!t) {
        t = {
          pid: th.pid,
          tid: th.tid,
          buf: Buffer.allocUnsafe(minBuffer),
          len: 0,
          chunks: [],
          events: 0,
          first: at,
          last: at,
        };
        threads.set(th, t);
        buffered += minBuffer;
      }
      lastThread = th;
      lastOut = t;
      // The nester emits in time order per thread; a late event (counted by timeOrdered) must not go back in time.
      if (at < t.last) at = t.last;
      t.last = at;
      if (t.len + MAX_EVENT_BYTES > t.buf.length) makeRoom(t);
      const buf = t.buf;
      let pos = t.len;
      if (t.events > 0) buf[pos++] = 0x2c;
      pos += (open ? OPEN_EVENT : CLOSE_EVENT).copy(buf, pos);
      pos = writeNumber(buf, pos, frame);
      pos += AT.copy(buf, pos);
      pos = writeNumber(buf, pos, at);
      buf[pos++] = 0x7d;
      t.len = pos;
      t.events++;
    };

    const nester = new SliceNester(
      {
        enter(slice: OpenSlice) {
          push(slice.thread, true, frameOf(slice.name), slice.ts);
        },
        exit(slice: OpenSlice, endTs: number) {
          push(slice.thread, false, frameOf(slice.name), endTs);
        },
        other(ev: TraceEvent) {
          if (ev.ph !== 'M') return;
          if (ev.name === 'process_name' || ev.name === 'thread_name') {
            const n = parseArgs(ev).name;
            if (typeof n !== 'string') return;
            if (ev.name === 'process_name') processNames.set(ev.pid, n);
            else threadNames.set(threadKey(ev.pid, ev.tid), n);
          }
        },
      },
      source.diagnostics,
    );
    for await (const batch of timeOrdered(source.batches(), {
      diagnostics: source.diagnostics,
      perThread: true,
      ...options.ordering,
    })) {
      nester.push(batch);
    }
    nester.finish();
    for (const t of threads.values()) spill(t);

    // Names known from the container (ring dumps) fill what M events did not say.
    for (const [pid, n] of source.meta.processNames) if (!processNames.has(pid)) processNames.set(pid, n);
    for (const [k, n] of source.meta.threadNames) if (!threadNames.has(k)) threadNames.set(k, n);

    const list = [...threads.values()].sort(
      (a, b) => compareIdent(a.pid, b.pid) || compareIdent(a.tid, b.tid),
    );
    let active = 0;
    for (let i = 0; i < list.length; i++) if (list[i]!.events > list[active]!.events) active = i;

    const name = basename(options.name ?? 'trace');
    await out.write(
      `{"$schema":"${SPEEDSCOPE_SCHEMA}","exporter":${JSON.stringify(options.exporter ?? 'viz')},"name":${JSON.stringify(name)},"activeProfileIndex":${active},"profiles":[`,
    );
    const buf = Buffer.alloc(1 << 20);
    for (let i = 0; i < list.length; i++) {
      const t = list[i]!;
      const pname = processNames.get(t.pid);
      const tname = threadNames.get(threadKey(t.pid, t.tid));
      const title = `${pname ?? 'process'} (pid ${t.pid}) / ${tname ?? 'thread'} (tid ${t.tid})`;
      await out.write(
        `${i === 0 ? '' : ','}\n{"type":"evented","name":${JSON.stringify(title)},"unit":"nanoseconds","startValue":${t.first},"endValue":${t.last},"events":[`,
      );
      for (const [offset, length] of t.chunks) {
        let done = 0;
        while (done < length) {
          const n = readSync(fd, buf, 0, Math.min(buf.length, length - done), offset + done);
          if (n === 0) throw new Error(`speedscope writer: short read from ${spillPath}`);
          // `out.write` may keep the chunk queued: hand it a copy.
          await out.write(Buffer.from(buf.subarray(0, n)));
          done += n;
        }
      }
      await out.write(']}');
    }
    if (list.length === 0) {
      // speedscope refuses a document without profiles: give it an empty one.
      await out.write(
        `\n{"type":"evented","name":${JSON.stringify(name + ' (no slices)')},"unit":"nanoseconds","startValue":0,"endValue":0,"events":[]}`,
      );
    }
    await out.write('\n],"shared":{"frames":[');
    const parts: string[] = [];
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      let s = `{"name":${JSON.stringify(f.name)}`;
      if (f.file !== undefined) s += `,"file":${JSON.stringify(f.file)}`;
      if (f.line !== undefined) s += `,"line":${f.line}`;
      parts.push(s + '}');
      if (parts.length >= 4096) {
        await out.write((i + 1 === parts.length ? '\n' : ',\n') + parts.join(',\n'));
        parts.length = 0;
      }
    }
    if (parts.length > 0)
      await out.write((frames.length === parts.length ? '\n' : ',\n') + parts.join(',\n'));
    await out.write(']}}\n');
    let events = 0;
    for (const t of list) events += t.events;
    return { events, profiles: Math.max(1, list.length), frames: frames.length };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

function compareIdent(a: Ident, b: Ident): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
