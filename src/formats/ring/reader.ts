/**
 * Reads a ring dump (`.vizdump`, layout in `schemas/ring-dump/README.md`) into
 * the shared event model.
 *
 * - enter -> `B`, exit -> `E`, instant -> `i` (thread scope), value -> `C`
 *   with `args: {"value": N}`.
 * - B/E names are `fn (file:line:col)`, built once per frame from the dump's
 *   frame table. pid is the process id, tid the OS thread id; thread and
 *   process names go into `meta.threadNames` / `meta.processNames`.
 * - `meta.baseUs` is the wall-clock µs of the recorder's start; event `ts`
 *   are integer ns after it, converted from ticks with the two calibration
 *   pairs in the header.
 * - Events the ring overwrote are counted (`ring_overwritten`, data loss).
 *   Exits whose enter was overwritten are dropped (`ring_orphan_exit`, info).
 *   Frames still open at the dump are closed at the dump time by an `E` with
 *   `args: {"unclosed":true}` (`ring_unclosed_at_dump`, info).
 * - A truncated dump yields every complete record plus `truncated_input`.
 * - Async span begin/end records become `b`/`e` events (cat `async`, id
 *   `"<tid>.<span>"`, the frame's name).
 * - Several dumps concatenated in one file (what `viz record` writes for a
 *   program that started Node.js child processes or JS-fallback workers) are
 *   read one after the other: every dump's clock is rebased onto the first's
 *   (ticks -> CLOCK_MONOTONIC, shared by all processes of one machine), and
 *   `meta.topLevel.processes` lists each process (pid, ppid, argv, ...).
 *
 * A ring section's valid records are only known from its trailer (the write
 * index after the records were written), so the reader needs random access:
 * files are read with positional reads, other inputs are buffered first.
 */
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { grown } from '../../model/columns.js';
import { loadNative, type NativeAddon } from '../../record/native.js';
import { Diagnostics } from '../../model/diagnostics.js';
import { inputError, VizError } from '../../model/errors.js';
import {
  CALL_ENTER,
  CALL_EXIT,
  CALL_EXIT_UNCLOSED,
  emptyMeta,
  UNCLOSED_ARGS,
  type CallRun,
  type CallRunSource,
  type TraceMeta,
  type TraceSource,
} from '../../model/source.js';
import { NO_DUR, NO_TS, threadKey, type EventBatch, type TraceEvent } from '../../model/event.js';
import type { Input } from '../../io/input.js';
import {
  FrameEntry,
  HEADER_BYTES,
  HeaderFlag,
  Kind,
  MAGIC,
  PAYLOAD_HEADER_BYTES,
  PAYLOAD_TRAILER_BYTES,
  PayloadRole,
  RECORD_BYTES,
  RING_HEADER_BYTES,
  RING_TRAILER_BYTES,
  RingFlag,
  Section,
  SECTION_HEADER_BYTES,
  THREAD_NAME_BYTES,
  VERSION,
} from './layout.js';

export const FORMAT_NAME = 'ring';
const BATCH = 4096;
/** Records read per positional read (4 MiB). */
const RECORDS_PER_READ = 262144;
const TWO_32 = 4294967296;

/** True when the first bytes are a ring dump's magic. */
export function sniff(firstBytes: Uint8Array): boolean {
  if (firstBytes.length < MAGIC.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (firstBytes[i] !== MAGIC[i]) return false;
  return true;
}
export const sniffRing = sniff;

/** Positional reads; a short result means end of input. */
interface ByteSource {
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Bytes available now (a truncation is reported where the data ends, not where it should). */
  size(): Promise<number>;
  close(): Promise<void>;
}

class FileBytes implements ByteSource {
  /** File size when last looked at: a damaged length field must not size the buffer. */
  private known = 0;
  constructor(private readonly fh: FileHandle) {}
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset + length > this.known) this.known = (await this.fh.stat()).size; // the file may still grow
    length = Math.max(0, Math.min(length, this.known - offset));
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.fh.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === length ? buf : buf.subarray(0, got);
  }
  async size(): Promise<number> {
    return (this.known = (await this.fh.stat()).size);
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

class MemoryBytes implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}
  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.bytes.length, offset + length);
    // Copy so record views are aligned regardless of the source's offset.
    return this.bytes.slice(Math.min(offset, end), end);
  }
  async size(): Promise<number> {
    return this.bytes.length;
  }
  async close(): Promise<void> {}
}

interface Frame {
  /** `fn (file:line:col)` */
  display: string;
  /** Bare name, for value (counter) records. */
  name: string;
  /** `TraceEvent.nameId` of the frame's calls: one per frame-table entry, 0 for an unknown frame. */
  nameId: number;
}

interface Clock {
  startTicksHi: number;
  startTicksLo: number;
  /** The start pair's CLOCK_MONOTONIC ns, split the same way (timed slices carry monotonic ns). */
  startMonoHi: number;
  startMonoLo: number;
  /** ns per tick. */
  slope: number;
  /** ns from `baseUs` to the start pair. */
  startOffsetNs: number;
  /** ts of the dump pair. */
  dumpTs: number;
}

/**
 * The time (ns from `baseUs`) of the record at `u32[o]`: its ticks through the clock's line.
 * `native/call_codec.cc` computes the same in the same order, to the bit.
 */
function recordNs(clock: Clock, u32: Uint32Array, o: number): number {
  return (
    clock.startOffsetNs +
    Math.round(((u32[o + 1]! - clock.startTicksHi) * TWO_32 + (u32[o]! - clock.startTicksLo)) * clock.slope)
  );
}

/** Frames open when `stop()` paused the recording end there with these args. */
const STOPPED_ARGS = '{"stopped":true}';
/** Category of async span events (`b`/`e`). */
export const ASYNC_CAT = 'async';
const INSTANT_EXTRA = Object.freeze({ s: '"t"' });
const SCOPE_EXTRA = [INSTANT_EXTRA, Object.freeze({ s: '"p"' }), Object.freeze({ s: '"g"' })];
/** Category of the V8 garbage collection slices (`--log-gc`). */
export const GC_CAT = 'gc';
/** The GC slices of thread T go on a track of their own: tid GC_TID_BASE | (T & 0xffffff). */
export const GC_TID_BASE = 0x20000000;
const OBJECT_PHASES = ['', 'N', 'O', 'D'];

/** A thread's payload bytes (see the schema's PAYLOAD section). */
interface Payloads {
  tid: number;
  bytes: Uint8Array;
  /** Byte positions: of bytes[0], the writer's position before and after the copy, ring size. */
  first: number;
  before: number;
  after: number;
  capacity: number;
}

/**
 * The records of one ring to read: indexes `from` to `end`, the ring's first record being index
 * `first`, at byte `recordsAt` of `src`; `tid` names the thread in messages.
 */
interface RingRecords {
  src: ByteSource;
  recordsAt: number;
  first: number;
  from: number;
  end: number;
  tid: number;
}

/** Entries per `CallRun` (about 350 KB of Perfetto packets: the writer's buffer need not grow). */
const RUN_ENTRIES = 16384;

/** Collects a thread's call entries into `CallRun`s. */
class CallRunBuilder {
  count = 0;
  kind = new Uint8Array(RUN_ENTRIES);
  frame = new Uint32Array(RUN_ENTRIES);
  ts = new Float64Array(RUN_ENTRIES);
  constructor(
    private readonly pid: number,
    private readonly tid: number,
    private readonly frames: CallRun['frames'],
  ) {}

  add(kind: number, frame: number, ts: number): void {
    const n = this.count;
    if (n === this.kind.length) {
      // Only an exit closing very many open frames at once gets here.
      this.kind = grown(this.kind, 2 * n);
      this.frame = grown(this.frame, 2 * n);
      this.ts = grown(this.ts, 2 * n);
    }
    this.kind[n] = kind;
    this.frame[n] = frame;
    this.ts[n] = ts;
    this.count = n + 1;
  }

  take(): CallRun {
    const run: CallRun = {
      pid: this.pid,
      tid: this.tid,
      count: this.count,
      kind: this.kind,
      frame: this.frame,
      ts: this.ts,
      frames: this.frames,
    };
    // The arrays are reused: a run is valid until the next item is asked for.
    this.count = 0;
    return run;
  }
}

export class RingDumpReader implements CallRunSource {
  readonly meta: TraceMeta = emptyMeta(FORMAT_NAME);
  readonly diagnostics = new Diagnostics();
  private consumed = 0;
  private frames: (Frame | undefined)[] = [];
  /** Frame-table entries so far, across dumps: each gets its own `nameId`. */
  private frameNameIds = 0;
  private files = new Map<number, string>();
  private pid = 0;
  /** CLOCK_MONOTONIC ns of the trace's time origin (`baseUs`), set by the first dump. */
  private originMono: bigint | undefined;
  /** Rings of the dump being read: [tid, name]. */
  private dumpThreads: [number, string][] = [];
  /** The PAYLOAD section just read: it belongs to the RING that follows. */
  private payloads: Payloads | undefined;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  /** Hand rings of calls only over as `CallRun`s (`batchesOrRuns`). */
  private wantRuns = false;
  /** Decode those rings with the native addon's loop when it is loaded (false: JavaScript only). */
  useNative = true;
  /** Display names of the current dump's frames, for its `CallRun`s. */
  private frameNames: CallRun['frames'] = { name: (id) => this.frame(id).display };

  constructor(
    private readonly name: string,
    private readonly openBytes: () => Promise<ByteSource>,
    /** Read headers, frames and ring headers only: no events (see `readRingSummary`). */
    private readonly headersOnly = false,
  ) {}

  get bytesRead(): number {
    return this.consumed;
  }

  batches(): AsyncGenerator<EventBatch, void, undefined> {
    return this.items() as AsyncGenerator<EventBatch, void, undefined>;
  }

  /** `batches()`, except that rings holding nothing but enters and exits come as `CallRun`s. */
  batchesOrRuns(): AsyncGenerator<EventBatch | CallRun, void, undefined> {
    this.wantRuns = true;
    return this.items();
  }

  private async *items(): AsyncGenerator<EventBatch | CallRun, void, undefined> {
    const src = await this.openBytes();
    try {
      yield* this.readAll(src);
    } finally {
      await src.close();
    }
  }

  private truncated(offset: number, what: string): void {
    this.diagnostics.add(
      'truncated_input',
      'data_loss',
      `${this.name}: byte ${offset}: dump ends inside ${what}`,
    );
  }

  private async *readAll(src: ByteSource): AsyncGenerator<EventBatch | CallRun, void, undefined> {
    let at = 0;
    for (let index = 0; ; index++) {
      const end = yield* this.readDump(src, at, index);
      if (end === undefined) return;
      // Another dump may follow (multi-process recordings): it starts with the magic.
      const next = await src.read(end, MAGIC.length);
      if (next.length === 0 || !sniff(next)) {
        if (next.length > 0)
          this.diagnostics.add(
            'ring_trailing_bytes',
            'error',
            `${this.name}: byte ${end}: bytes after the end marker that are not another dump; ignored`,
          );
        return;
      }
      this.frames = [];
      this.files = new Map();
      this.frameNames = { name: (id) => this.frame(id).display };
      at = end;
    }
  }

  /** Reads one dump starting at `at`; returns where its END section ends (undefined: cut short). */
  private async *readDump(
    src: ByteSource,
    at: number,
    index: number,
  ): AsyncGenerator<EventBatch | CallRun, number | undefined, undefined> {
    const head = await src.read(at, HEADER_BYTES);
    if (!sniff(head)) throw inputError(this.name, at, 'not a viz ring dump (no VIZDUMP magic)');
    if (head.length < HEADER_BYTES) {
      this.truncated(at + head.length, 'the header');
      return undefined;
    }
    const h = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const version = h.getUint16(8, true);
    if (version !== VERSION)
      throw inputError(
        this.name,
        at + 8,
        `unsupported ring dump version ${version} (this viz reads ${VERSION})`,
      );
    const headerBytes = h.getUint16(10, true);
    const flags = h.getUint32(12, true);
    this.pid = h.getUint32(16, true);
    const signal = h.getUint32(20, true);
    const startTicks = h.getBigUint64(24, true);
    const startMono = h.getBigUint64(32, true);
    const dumpTicks = h.getBigUint64(40, true);
    const dumpMono = h.getBigUint64(48, true);
    const startRealtime = h.getBigUint64(56, true);
    const clock = this.makeClock(startTicks, startMono, dumpTicks, dumpMono, startRealtime);
    const proc: RingProcessSummary = {
      pid: this.pid,
      ppid: 0,
      argv: [],
      name: '',
      signal,
      clock: flags & HeaderFlag.tsc ? 'tsc' : 'monotonic',
      startRealtimeNs: startRealtime.toString(),
      startTs: clock.startOffsetNs,
      dumpTs: clock.dumpTs,
    };
    let samePid = false;
    if (index === 0) {
      this.meta.topLevel = {
        clock: proc.clock,
        signal,
        startRealtimeNs: startRealtime.toString(),
        dumpAfterNs: Number(dumpMono - startMono),
        processes: [proc],
      };
    } else {
      const list = this.meta.topLevel.processes as RingProcessSummary[];
      // A JavaScript-fallback worker's own dump: same process, another thread.
      samePid = list.some((p) => p.pid === proc.pid);
      if (!samePid) list.push(proc);
    }
    this.consumed = at + headerBytes;

    let offset = at + headerBytes;
    let sawEnd = false;
    for (;;) {
      const sh = await src.read(offset, SECTION_HEADER_BYTES);
      if (sh.length === 0) break;
      if (sh.length < SECTION_HEADER_BYTES) {
        this.truncated(offset, 'a section header');
        break;
      }
      const sv = new DataView(sh.buffer, sh.byteOffset, sh.byteLength);
      const type = sv.getUint32(0, true);
      const length = Number(sv.getBigUint64(8, true));
      const body = offset + SECTION_HEADER_BYTES;
      if (type === Section.end) {
        sawEnd = true;
        this.consumed = body;
        offset = body;
        break;
      }
      if (type === Section.process) await this.readProcess(src, body, length, proc);
      else if (type === Section.frames) await this.readFrames(src, body, length);
      else if (type === Section.payload) await this.readPayloads(src, body, length);
      else if (type === Section.ring) {
        yield* this.readRing(src, body, length, clock);
        this.payloads = undefined;
      } else
        this.diagnostics.add(
          'ring_unknown_section',
          'info',
          `${this.name}: byte ${offset}: skipped section type ${type}`,
        );
      offset = body + length;
      this.consumed = offset;
    }
    // Names as metadata events too (writers that only carry events keep them): the process's
    // with its parent pid, each thread's.
    const names: TraceEvent[] = [];
    const pname = { name: proc.name || `pid ${proc.pid}`, ppid: proc.ppid };
    if (!samePid) names.push(meta('process_name', proc.pid, 0, JSON.stringify(pname)));
    for (const [tid, name] of this.dumpThreads)
      names.push(meta('thread_name', proc.pid, tid, JSON.stringify({ name })));
    this.dumpThreads = [];
    if (!this.headersOnly) yield names;
    if (!sawEnd) {
      if (!this.diagnostics.get('truncated_input'))
        this.truncated(offset, 'the section list (no end marker)');
      return undefined;
    }
    return offset;
  }

  private makeClock(
    startTicks: bigint,
    startMono: bigint,
    dumpTicks: bigint,
    dumpMono: bigint,
    startRealtime: bigint,
  ): Clock {
    const dTicks = Number(dumpTicks - startTicks);
    const dNs = Number(dumpMono - startMono);
    const slope = dTicks > 0 && dNs > 0 ? dNs / dTicks : 1;
    let startOffsetNs: number;
    if (this.originMono === undefined) {
      const baseUs = startRealtime / 1000n;
      this.meta.baseUs = Number(baseUs);
      startOffsetNs = Number(startRealtime - baseUs * 1000n);
      this.originMono = startMono - BigInt(startOffsetNs);
    } else {
      // A later dump of a concatenation: same CLOCK_MONOTONIC, rebased onto the first's origin.
      startOffsetNs = Number(startMono - this.originMono);
    }
    return {
      startTicksHi: Number(startTicks >> 32n),
      startTicksLo: Number(startTicks & 0xffffffffn),
      startMonoHi: Number(startMono >> 32n),
      startMonoLo: Number(startMono & 0xffffffffn),
      slope,
      startOffsetNs,
      dumpTs: startOffsetNs + Math.max(0, dNs),
    };
  }

  private async readProcess(
    src: ByteSource,
    offset: number,
    length: number,
    proc: RingProcessSummary,
  ): Promise<void> {
    const bytes = await src.read(offset, length);
    if (bytes.length < 8) return this.truncated(offset, 'the process section');
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = Math.min(v.getUint32(0, true), bytes.length - 8);
    proc.ppid = v.getUint32(4, true);
    const argv = Buffer.from(bytes.buffer, bytes.byteOffset + 8, n)
      .toString('utf8')
      .split('\0');
    if (argv.length > 0 && argv[argv.length - 1] === '') argv.pop();
    if (this.meta.topLevel.argv === undefined) this.meta.topLevel.argv = argv;
    proc.argv = argv;
    proc.name = processName(argv);
    if (!this.meta.processNames.has(this.pid)) this.meta.processNames.set(this.pid, proc.name);
  }

  private async readFrames(src: ByteSource, offset: number, length: number): Promise<void> {
    const bytes = await src.read(offset, length);
    if (bytes.length < length) this.truncated(offset + bytes.length, 'the frame table');
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let p = 0;
    while (p + 12 <= bytes.length) {
      const tag = v.getUint32(p, true);
      if (tag === FrameEntry.file) {
        const id = v.getUint32(p + 4, true);
        const len = v.getUint32(p + 8, true);
        if (p + 12 + len > bytes.length) break;
        this.files.set(id, text.toString('utf8', p + 12, p + 12 + len));
        p += 12 + ((len + 3) & ~3);
      } else if (tag === FrameEntry.frame) {
        if (p + 28 > bytes.length) break;
        const id = v.getUint32(p + 4, true);
        const fileId = v.getUint32(p + 8, true);
        const file = this.files.get(fileId) ?? '?';
        const line = v.getUint32(p + 12, true);
        const column = v.getUint32(p + 16, true);
        const len = v.getUint32(p + 24, true);
        if (p + 28 + len > bytes.length) break;
        const name = text.toString('utf8', p + 28, p + 28 + len);
        // file 0: a name with no source position (the tracing API's spans, instants, counters)
        this.frames[id] = {
          name,
          display: fileId === 0 ? name : `${name} (${file}:${line}:${column})`,
          nameId: ++this.frameNameIds,
        };
        p += 28 + ((len + 3) & ~3);
      } else if (tag === 0) {
        break; // padding
      } else {
        this.diagnostics.add(
          'ring_bad_frame_entry',
          'error',
          `${this.name}: byte ${offset + p}: unknown frame entry tag ${tag}`,
        );
        break;
      }
    }
  }

  private async readPayloads(src: ByteSource, offset: number, length: number): Promise<void> {
    const bytes = await src.read(offset, length);
    if (bytes.length < PAYLOAD_HEADER_BYTES) return this.truncated(offset, 'a payload section');
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = Number(v.getBigUint64(32, true));
    const trailer = PAYLOAD_HEADER_BYTES + count;
    const before = Number(v.getBigUint64(16, true));
    this.payloads = {
      tid: v.getUint32(0, true),
      capacity: Number(v.getBigUint64(8, true)),
      before,
      first: Number(v.getBigUint64(24, true)),
      after: bytes.length >= trailer + PAYLOAD_TRAILER_BYTES ? Number(v.getBigUint64(trailer, true)) : before,
      bytes: bytes.subarray(PAYLOAD_HEADER_BYTES, Math.min(bytes.length, trailer)),
    };
    if (bytes.length < length) this.truncated(offset + bytes.length, 'a payload section');
  }

  /**
   * The JSON text a payload record points at (`a`: its byte position / 8, low 32 bits), or
   * undefined when the payload ring has overwritten it (or it is not valid JSON: a torn copy).
   */
  private payloadText(tid: number, a: number): string | undefined {
    const p = this.payloads;
    if (p === undefined || p.tid !== tid) return undefined;
    const beforeUnits = p.before / 8;
    const delta = ((((beforeUnits % TWO_32) - a) % TWO_32) + TWO_32) % TWO_32;
    const pos = (beforeUnits - delta) * 8;
    const validFrom = Math.max(p.first, p.after - p.capacity);
    const at = pos - p.first;
    if (pos < validFrom || at + 8 > p.bytes.length) return undefined;
    const len = p.bytes[at]! | (p.bytes[at + 1]! << 8) | (p.bytes[at + 2]! << 16) | (p.bytes[at + 3]! << 24);
    if (len < 0 || at + 8 + len > p.bytes.length) return undefined;
    try {
      const text = this.utf8.decode(p.bytes.subarray(at + 8, at + 8 + len));
      JSON.parse(text);
      return text;
    } catch {
      return undefined;
    }
  }

  private frame(id: number): Frame {
    let f = this.frames[id];
    if (f === undefined) {
      f = { name: `frame#${id}`, display: `frame#${id}`, nameId: 0 };
      this.frames[id] = f;
      this.diagnostics.add(
        'ring_unknown_frame',
        'error',
        `${this.name}: frame id ${id} is not in the frame table`,
      );
    }
    return f;
  }

  private async *readRing(
    src: ByteSource,
    offset: number,
    length: number,
    clock: Clock,
  ): AsyncGenerator<EventBatch | CallRun> {
    const hb = await src.read(offset, RING_HEADER_BYTES);
    if (hb.length < RING_HEADER_BYTES) return this.truncated(offset, 'a ring header');
    const hv = new DataView(hb.buffer, hb.byteOffset, hb.byteLength);
    const tid = hv.getUint32(0, true);
    const nodeThreadId = hv.getInt32(4, true);
    const capacity = hv.getUint32(8, true);
    const recordBytes = hv.getUint32(12, true);
    const before = Number(hv.getBigUint64(16, true));
    const first = Number(hv.getBigUint64(24, true));
    const count = Number(hv.getBigUint64(32, true));
    const ringFlags = hv.getUint32(40, true);
    const nameBytes = hb.subarray(48, 48 + THREAD_NAME_BYTES);
    const nul = nameBytes.indexOf(0);
    const threadName =
      Buffer.from(nameBytes.buffer, nameBytes.byteOffset, nul < 0 ? THREAD_NAME_BYTES : nul).toString(
        'utf8',
      ) || (nodeThreadId === 0 ? 'main' : `worker ${nodeThreadId}`);
    const pid = this.pid;
    this.meta.threadNames.set(threadKey(pid, tid), threadName);
    this.dumpThreads.push([tid, threadName]);
    if (recordBytes !== RECORD_BYTES) {
      throw inputError(this.name, offset + 12, `unsupported record size ${recordBytes}`);
    }
    const recordsAt = offset + RING_HEADER_BYTES;
    const trailerAt = recordsAt + count * RECORD_BYTES;
    const tb = await src.read(trailerAt, RING_TRAILER_BYTES);
    let after = before;
    if (tb.length === RING_TRAILER_BYTES) {
      after = Number(new DataView(tb.buffer, tb.byteOffset, 8).getBigUint64(0, true));
    } else {
      // The records may end before the trailer should start: name the last byte there is.
      this.truncated(Math.min(trailerAt + tb.length, await src.size()), `the ring of thread ${tid}`);
    }
    const validFrom = firstValidIndex(first, after, capacity, ringFlags);
    const overwritten = Math.min(validFrom, before);
    const threads = (this.meta.topLevel.threads ??= []) as RingThreadSummary[];
    threads.push({
      pid,
      tid,
      nodeThreadId,
      name: threadName,
      capacity,
      written: before,
      kept: before - overwritten,
      overwritten,
      fastCalls:
        tb.length === RING_TRAILER_BYTES
          ? Number(new DataView(tb.buffer, tb.byteOffset).getBigUint64(8, true))
          : 0,
    });
    if (overwritten > 0) {
      this.diagnostics.add(
        'ring_overwritten',
        'data_loss',
        `thread ${tid} (${threadName}): ${overwritten} oldest events overwritten (ring of ${capacity} events)`,
        overwritten,
      );
    }

    if (this.headersOnly) return;
    const from = Math.max(first, validFrom);
    const ring: RingRecords = { src, recordsAt, first, from, end: before, tid };
    if (this.wantRuns && (await this.onlyCalls(ring))) {
      yield* this.callRuns(ring, clock, pid);
      return;
    }
    const stack: number[] = [];
    /** Return values logged for the open frames (parallel to `stack`). */
    const returns: (string | undefined)[] = [];
    let batch: TraceEvent[] = [];
    /**
     * The event of the previous record, held back from the batch: a payload record that
     * follows it fills in its args.
     */
    let held: TraceEvent | undefined;
    let lostPayloads = 0;
    let stoppedExits = 0;
    /** stop() was called: exits with no open frame are expected from then on. */
    let stopped = false;
    const gcTid = GC_TID_BASE | (tid & 0xffffff);
    let gcTrack = false;
    const emit = (e: TraceEvent): void => {
      if (held !== undefined) batch.push(held);
      held = e;
    };
    const exitEvent = (frameId: number, ts: number, args: string): TraceEvent => {
      const ret = returns.pop();
      const a = ret === undefined ? args : args === '' ? `{"return_value":${ret}}` : args;
      return ev('E', this.frame(frameId).display, ts, pid, tid, a, undefined);
    };
    let orphans = 0;
    let lastTs = 0;
    for await (const u32 of this.records(ring)) {
      for (let o = 0; o < u32.length; o += 4) {
        const ts = recordNs(clock, u32, o);
        const a = u32[o + 2]!;
        const kindAux = u32[o + 3]!;
        const kind = kindAux & 0xff;
        if (kind !== Kind.timedSlice) lastTs = ts;
        if (kind === Kind.enter) {
          stack.push(a);
          returns.push(undefined);
          const f = this.frame(a);
          emit(ev('B', f.display, ts, pid, tid, '', undefined, f.nameId));
        } else if (kind === Kind.exit) {
          if (stack.length > 0 && stack[stack.length - 1] === a) {
            stack.pop();
            emit(exitEvent(a, ts, ''));
          } else if (stack.length === 0) {
            if (stopped) stoppedExits++;
            else orphans++;
          } else this.unbalancedExit(stack, a, tid, (frame) => emit(exitEvent(frame, ts, '')));
        } else if (kind === Kind.payload) {
          const text = this.payloadText(tid, a);
          const role = kindAux >>> 8;
          if (text === undefined) lostPayloads++;
          else if (role === PayloadRole.returnValue) {
            if (returns.length > 0) returns[returns.length - 1] = text;
          } else if (role === PayloadRole.ofPrevious && held !== undefined) {
            if (held.ph === 'B') held.args = `{"func_args":${text}}`;
            else if (held.ph === 'O') held.args = `{"snapshot":${text}}`;
            else if (held.args === '') held.args = text;
          }
          continue; // produces no event
        } else if (kind === Kind.asyncBegin || kind === Kind.asyncEnd) {
          const id = `"${tid}.${a}"`;
          const ph = kind === Kind.asyncBegin ? 'b' : 'e';
          emit({
            ph,
            name: this.frame(kindAux >>> 8).display,
            cat: ASYNC_CAT,
            ts,
            dur: NO_DUR,
            pid,
            tid,
            id,
            args: '',
            extra: undefined,
            nameId: 0,
          });
        } else if (kind === Kind.instant) {
          const scope = SCOPE_EXTRA[(kindAux >>> 8) & 3] ?? INSTANT_EXTRA;
          emit(ev('i', this.frame(a).name, ts, pid, tid, '', scope));
        } else if (kind === Kind.value) {
          const name = this.frame(kindAux >>> 8).name;
          emit(ev('C', name, ts, pid, tid, `{"value":${a | 0}}`, undefined));
        } else if (kind === Kind.counter) {
          emit(ev('C', this.frame(a).name, ts, pid, tid, '', undefined));
        } else if (kind === Kind.object) {
          const aux = kindAux >>> 8;
          const ph = OBJECT_PHASES[aux & 3] ?? 'O';
          const e = ev(ph === '' ? 'O' : ph, this.frame(a).name, ts, pid, tid, '', undefined);
          e.id = `"${tid}.${aux >>> 2}"`;
          emit(e);
        } else if (kind === Kind.timedSlice) {
          // ticks hold CLOCK_MONOTONIC ns, not ticks
          const start =
            clock.startOffsetNs +
            ((u32[o + 1]! - clock.startMonoHi) * TWO_32 + (u32[o]! - clock.startMonoLo));
          const e = ev('X', this.frame(kindAux >>> 8).name, start, pid, gcTid, '', undefined);
          e.cat = GC_CAT;
          e.dur = a;
          emit(e);
          gcTrack = true;
          continue; // its ticks are not the thread's clock: lastTs stays
        } else if (kind === Kind.pause) {
          stopped = true;
          // frames open now end here: their exits are not recorded while stopped
          while (stack.length > 0) emit(exitEvent(stack.pop()!, ts, STOPPED_ARGS));
        } else if (kind === Kind.resume) {
          // exits of frames entered before the stop follow: expected, and dropped
        } else {
          this.diagnostics.add('ring_unknown_kind', 'error', `thread ${tid}: record kind ${kind}`);
        }
        if (batch.length >= BATCH) {
          yield batch;
          batch = [];
        }
      }
    }
    if (held !== undefined) batch.push(held);
    if (gcTrack) {
      const gcName = `V8 GC (${threadName})`;
      this.meta.threadNames.set(threadKey(pid, gcTid), gcName);
      this.dumpThreads.push([gcTid, gcName]);
    }
    if (lostPayloads > 0) {
      this.diagnostics.add(
        'ring_payload_overwritten',
        'info',
        `thread ${tid}: ${lostPayloads} logged values (args, return values) were overwritten in the payload ring; their events are kept without them`,
        lostPayloads,
      );
    }
    if (stoppedExits > 0) {
      this.diagnostics.add(
        'ring_exit_after_stop',
        'info',
        `thread ${tid}: ${stoppedExits} exits of frames entered before stop() were dropped (those frames end at the stop)`,
        stoppedExits,
      );
    }
    this.noteOrphans(tid, orphans);
    if (stack.length > 0) {
      const closeTs = this.noteUnclosed(tid, stack.length, lastTs, clock);
      while (stack.length > 0) batch.push(exitEvent(stack.pop()!, closeTs, UNCLOSED_ARGS));
    }
    if (batch.length > 0) yield batch;
  }

  /**
   * The record loop of `readRing` for a ring of enters and exits only: the same rules, the calls
   * as columns instead of events.
   */
  private async *callRuns(ring: RingRecords, clock: Clock, pid: number): AsyncGenerator<CallRun> {
    const tid = ring.tid;
    const run = new CallRunBuilder(pid, tid, this.frameNames);
    const decode = this.useNative ? loadNative()?.decodeCalls : undefined;
    if (decode !== undefined) {
      yield* this.callRunsNatively(decode, run, ring, clock);
      return;
    }
    const stack: number[] = [];
    let orphans = 0;
    let lastTs = 0;
    for await (const u32 of this.records(ring)) {
      for (let o = 0; o < u32.length; o += 4) {
        const ts = recordNs(clock, u32, o);
        const a = u32[o + 2]!;
        lastTs = ts;
        if ((u32[o + 3]! & 0xff) === Kind.enter) {
          stack.push(a);
          run.add(CALL_ENTER, a, ts);
        } else if (stack.length > 0 && stack[stack.length - 1] === a) {
          stack.pop();
          run.add(CALL_EXIT, a, ts);
        } else if (stack.length === 0) orphans++;
        else this.unbalancedExit(stack, a, tid, (frame) => run.add(CALL_EXIT, frame, ts));
        if (run.count >= RUN_ENTRIES) yield run.take();
      }
    }
    this.noteOrphans(tid, orphans);
    if (stack.length > 0) {
      const closeTs = this.noteUnclosed(tid, stack.length, lastTs, clock);
      while (stack.length > 0) run.add(CALL_EXIT_UNCLOSED, stack.pop()!, closeTs);
    }
    if (run.count > 0) yield run.take();
  }

  /**
   * `callRuns` with its loop in the addon (`decodeCalls`), which stops for the JavaScript here at a
   * full stack or an unbalanced exit.
   */
  private async *callRunsNatively(
    decode: NonNullable<NativeAddon['decodeCalls']>,
    run: CallRunBuilder,
    ring: RingRecords,
    clock: Clock,
  ): AsyncGenerator<CallRun> {
    const tid = ring.tid;
    const clockSlots = Float64Array.of(
      clock.startTicksHi,
      clock.startTicksLo,
      clock.slope,
      clock.startOffsetNs,
    );
    let stack = new Uint32Array(1024);
    // record index in the chunk, stack depth, orphans, entries in the run, last ts, run limit
    const state = Float64Array.of(0, 0, 0, 0, 0, RUN_ENTRIES);
    for await (const u32 of this.records(ring)) {
      const records = u32.length / 4;
      state[0] = 0;
      for (;;) {
        state[3] = run.count;
        decode(u32, clockSlots, stack, state, run.kind, run.frame, run.ts);
        run.count = state[3]!;
        if (run.count >= RUN_ENTRIES) {
          yield run.take();
          continue;
        }
        const r: number = state[0]!;
        if (r >= records) break;
        const depth = state[1]!;
        if (depth === stack.length) {
          stack = grown(stack, 2 * depth);
          continue;
        }
        // An exit that is not the innermost open frame's.
        const o = 4 * r;
        const ts = recordNs(clock, u32, o);
        const open = Array.from(stack.subarray(0, depth));
        this.unbalancedExit(open, u32[o + 2]!, tid, (frame) => run.add(CALL_EXIT, frame, ts));
        stack.set(open);
        state[1] = open.length;
        state[4] = ts;
        state[0] = r + 1;
        if (run.count >= RUN_ENTRIES) yield run.take();
      }
    }
    this.noteOrphans(tid, state[2]!);
    let depth = state[1]!;
    if (depth > 0) {
      const closeTs = this.noteUnclosed(tid, depth, state[4]!, clock);
      while (depth > 0) run.add(CALL_EXIT_UNCLOSED, stack[--depth]!, closeTs);
    }
    if (run.count > 0) yield run.take();
  }

  /**
   * The records of a ring as `Uint32Array` chunks of four words per record. A ring cut short ends
   * at its last complete record, with a `truncated_input` warning (unless `quiet`).
   */
  private async *records(ring: RingRecords, quiet = false): AsyncGenerator<Uint32Array> {
    const { src, recordsAt, first, from, end, tid } = ring;
    for (let index = from; index < end;) {
      const n = Math.min(RECORDS_PER_READ, end - index);
      const at = recordsAt + (index - first) * RECORD_BYTES;
      const bytes = await src.read(at, n * RECORD_BYTES);
      const got = Math.floor(bytes.length / RECORD_BYTES);
      if (!quiet) this.consumed = at + bytes.length;
      yield new Uint32Array(bytes.buffer, bytes.byteOffset, got * 4);
      if (got < n) {
        if (!quiet) this.truncated(at + bytes.length, `the ring of thread ${tid}`);
        return;
      }
      index += got;
    }
  }

  /**
   * Whether the records of a ring are all enters and exits, in time order (a
   * ring out of order goes through the event path, which puts it back in order).
   */
  private async onlyCalls(ring: RingRecords): Promise<boolean> {
    const check = this.useNative ? loadNative()?.callsInOrder : undefined;
    if (check !== undefined) {
      const last = new Float64Array(2);
      for await (const u32 of this.records(ring, true)) if (!check(u32, last)) return false;
      return true;
    }
    let lastHi = 0;
    let lastLo = 0;
    for await (const u32 of this.records(ring, true)) {
      for (let o = 0; o < u32.length; o += 4) {
        const kind = u32[o + 3]! & 0xff;
        if (kind !== Kind.enter && kind !== Kind.exit) return false;
        const hi = u32[o + 1]!;
        if (hi < lastHi || (hi === lastHi && u32[o]! < lastLo)) return false;
        lastHi = hi;
        lastLo = u32[o]!;
      }
    }
    return true;
  }

  /**
   * An exit that is not the innermost open frame's: when its frame is open deeper, the inner
   * frames and it are closed (`close` per frame) so calls stay nested; otherwise it is dropped.
   */
  private unbalancedExit(stack: number[], frame: number, tid: number, close: (frame: number) => void): void {
    if (stack.lastIndexOf(frame) < 0) {
      this.diagnostics.add(
        'ring_unbalanced',
        'error',
        `thread ${tid}: exit of frame ${frame} that is not open`,
      );
      return;
    }
    while (stack.length > 0) {
      const top = stack.pop()!;
      close(top);
      if (top === frame) break;
      this.diagnostics.add(
        'ring_unbalanced',
        'error',
        `thread ${tid}: exit of a frame with inner frames still open`,
      );
    }
  }

  private noteOrphans(tid: number, orphans: number): void {
    if (orphans === 0) return;
    this.diagnostics.add(
      'ring_orphan_exit',
      'info',
      `thread ${tid}: ${orphans} exits whose enters were overwritten were dropped`,
      orphans,
    );
  }

  /** Frames still open at the dump: counted; returns the time they are closed at. */
  private noteUnclosed(tid: number, open: number, lastTs: number, clock: Clock): number {
    this.diagnostics.add(
      'ring_unclosed_at_dump',
      'info',
      `thread ${tid}: ${open} frames still open at the dump, closed at the dump time (args.unclosed)`,
      open,
    );
    return Math.max(lastTs, clock.dumpTs);
  }
}

/**
 * Slots of indices below this may have been rewritten while the dump was being
 * written (see the schema, "Which records are valid"): they count as overwritten.
 */
function firstValidIndex(first: number, after: number, capacity: number, ringFlags: number): number {
  const active = ringFlags & RingFlag.writerMayBeActive ? 1 : 0;
  return Math.max(first, after + active - capacity, 0);
}

/** One process (one dump) of a file, as `meta.topLevel.processes` lists them. */
export interface RingProcessSummary {
  pid: number;
  /** Parent pid (0: unknown, a dump written before viz recorded it). */
  ppid: number;
  argv: string[];
  /** Track group name: `node script.js args...`. */
  name: string;
  signal: number;
  clock: 'tsc' | 'monotonic';
  startRealtimeNs: string;
  /** The recorder's start and the dump, on the file's time axis (ns after `baseUs`). */
  startTs: number;
  dumpTs: number;
}

/** One ring of a dump, as `meta.topLevel.threads` lists them once read. */
export interface RingThreadSummary {
  pid: number;
  tid: number;
  nodeThreadId: number;
  name: string;
  capacity: number;
  /** Events written on the thread before the dump. */
  written: number;
  /** Records in the dump that are valid (before orphan exits are dropped). */
  kept: number;
  overwritten: number;
  /** Events that came through the V8 fast API path. */
  fastCalls: number;
}

function meta(name: string, pid: number, tid: number, args: string): TraceEvent {
  return {
    ph: 'M',
    name,
    cat: '',
    ts: NO_TS,
    dur: NO_DUR,
    pid,
    tid,
    id: '',
    args,
    extra: undefined,
    nameId: 0,
  };
}

function ev(
  ph: string,
  name: string,
  ts: number,
  pid: number,
  tid: number,
  args: string,
  extra: Record<string, string> | undefined,
  nameId = 0,
): TraceEvent {
  return { ph, name, cat: '', ts, dur: NO_DUR, pid, tid, id: '', args, extra, nameId };
}

/**
 * `node --import tsx /x/app.mts a b` -> `node app.mts a b`: the runtime's flags are dropped, the
 * script and the runtime lose their directories, the program's arguments stay (at most 200 chars).
 */
export function processName(argv: string[]): string {
  const rest = argv.slice(1);
  let i = rest.findIndex((a) => /\.[cm]?[jt]sx?$/.test(a));
  if (i < 0) i = rest.findIndex((a) => !a.startsWith('-'));
  const base = (s: string) => s.slice(s.lastIndexOf('/') + 1);
  const head = base(argv[0] ?? 'node');
  if (i < 0) return head;
  const name = [head, base(rest[i]!), ...rest.slice(i + 1)].join(' ');
  return name.length > 200 ? `${name.slice(0, 199)}…` : name;
}

/** A dump file, read with positional reads. */
export function openRingDump(path: string): TraceSource {
  return new RingDumpReader(path, async () => {
    try {
      return new FileBytes(await openFile(path, 'r'));
    } catch (err) {
      throw new VizError('badInput', `${path}: ${(err as Error).message}`);
    }
  });
}

/**
 * Everything about a dump but its events, without reading the records:
 * `meta.topLevel.threads` (RingThreadSummary[]) has per-thread written, kept
 * and overwritten counts; diagnostics hold `ring_overwritten` and truncation.
 */
export async function readRingSummary(path: string): Promise<{ meta: TraceMeta; diagnostics: Diagnostics }> {
  const reader = new RingDumpReader(
    path,
    async () => {
      try {
        return new FileBytes(await openFile(path, 'r'));
      } catch (err) {
        throw new VizError('badInput', `${path}: ${(err as Error).message}`);
      }
    },
    true,
  );
  for await (const _ of reader.batches());
  return { meta: reader.meta, diagnostics: reader.diagnostics };
}

/** A dump already in memory (tests, stdin). */
export function ringSourceFromBytes(bytes: Uint8Array, name = '<memory>'): TraceSource {
  return new RingDumpReader(name, async () => new MemoryBytes(bytes));
}

/** Registry entry point: files are read in place, other inputs (stdin, gzip) are buffered. */
export function readRing(input: Input): TraceSource {
  if (!input.gzip && input.size !== undefined && input.name !== '<stdin>') return openRingDump(input.name);
  return new RingDumpReader(input.name, async () => {
    const parts: Buffer[] = [];
    for await (const c of input.chunks()) parts.push(c);
    return new MemoryBytes(Buffer.concat(parts));
  });
}
