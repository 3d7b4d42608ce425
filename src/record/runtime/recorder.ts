/**
 * The recorder API that instrumented code and the preload call.
 *
 * Per event: `enter(frameId)`, `exit(frameId)`, `instant(frameId)` and
 * `value(nameFrameId, int32)`: integers only, nothing allocated. The native
 * addon keeps one ring per thread (main and each worker) outside the JS heap
 * and dumps all of them from exit hooks and signal handlers; when it cannot
 * load, a JavaScript ring with the same record layout and the same dump format
 * takes over (one warning; no fatal-signal dumps; worker rings go to their own
 * files `<stem>.t<threadId>.vizdump`).
 *
 * Frame ids come from `registerFrames` (one call per module, strings are fine
 * there). The per-event functions are own properties holding the native
 * functions themselves, so `rec.enter(id)` and a detached `const e = rec.enter`
 * both reach the V8 fast call without a JS wrapper in between.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { isMainThread, threadId } from 'node:worker_threads';
import {
  FrameEntry,
  HEADER_BYTES,
  Kind,
  MAGIC,
  MAX_AUX,
  numberedDumpPath,
  pad4,
  pad8,
  PAYLOAD_HEADER_BYTES,
  PAYLOAD_TRAILER_BYTES,
  RECORD_BYTES,
  RING_HEADER_BYTES,
  RING_TRAILER_BYTES,
  Section,
  SECTION_HEADER_BYTES,
  THREAD_NAME_BYTES,
  VERSION,
} from '../../formats/ring/layout.js';
import { loadNative, nativeLoadError, type NativeAddon } from '../native.js';

/** 2^20 events x 16 bytes = 16 MiB of ring per thread (committed only as it fills). */
export const DEFAULT_CAPACITY = 1 << 20;

export type Backend = 'fast-api' | 'napi' | 'js';

export interface RecorderOptions {
  /** Events kept per thread (rounded up to a power of two). */
  capacity?: number;
  /** Where exit, signal and crash dumps go, e.g. `$VIZ_OUT_DIR/<pid>.vizdump`. */
  dumpPath?: string;
  /** Defaults to `main` or `worker <threadId>`. */
  threadName?: string;
  /**
   * `auto`: the addon (fast API when built with it), else JS. `napi`: the
   * addon's plain N-API per-event functions. `js`: the JavaScript ring.
   */
  backend?: 'auto' | 'napi' | 'js';
  /** Dump to `dumpPath` on exit (normal, process.exit, uncaught exception, unhandled rejection). Default: main thread with a dumpPath. */
  exitHooks?: boolean;
  /** Dump on SIGINT/SIGTERM/SIGHUP/SIGUSR2 (+ fatal signals, native only). Default: as exitHooks. */
  signals?: boolean;
  /** Receives the fallback warning; default `process.emitWarning`. */
  warn?: (message: string) => void;
}

export interface FrameSpec {
  name: string;
  file: string;
  /** 1-based; 0 when unknown. */
  line: number;
  /** 1-based; 0 when unknown. */
  column: number;
  /** Index into the transform's FRAME_KINDS; stored, not interpreted. */
  kind?: number;
}

/** What instrumented modules pass to `__viz_rt.reg` (see record/transform/frames.ts). */
export interface PackedFrames {
  files: string[];
  frames: [string, number, number, number, number][];
}

export interface RecorderStats {
  /** Events written on this thread since start. */
  written: number;
  capacity: number;
  /** written - capacity when positive. */
  overwritten: number;
  /** Events that went through the V8 fast call (native only). */
  fastCalls: number;
}

export interface Recorder {
  readonly backend: Backend;
  readonly capacity: number;
  readonly clock: 'tsc' | 'monotonic' | 'hrtime';
  enter(frameId: number): void;
  exit(frameId: number): void;
  instant(frameId: number): void;
  value(nameFrameId: number, value: number): void;
  /** An async activation (async function, generator) starts: returns its span id (0: not recorded). */
  asyncBegin(frameId: number): number;
  /** ... and settles. */
  asyncEnd(frameId: number, spanId: number): void;
  /** An instant (Kind.instant, aux = scope), counter (Kind.counter) or object (Kind.object) record. */
  record(kind: number, a: number, aux: number): void;
  /** JSON text for the previous record (PayloadRole.ofPrevious) or the innermost frame's return value. */
  payload(role: number, json: string): boolean;
  /** A slice measured elsewhere (V8's GC): start in CLOCK_MONOTONIC ns. */
  timedSlice(startMonotonicNs: number, durationNs: number, nameFrameId: number): void;
  /** stop()/start() of the tracing API: calls are not recorded while paused. */
  setPaused(paused: boolean): void;
  registerFrames(frames: readonly FrameSpec[]): number;
  registerPacked(packed: PackedFrames): number;
  /** Writes a dump now; returns the bytes written. Throws when the dump could not be written. */
  dump(path?: string): number;
  setThreadName(name: string): void;
  stats(): RecorderStats;
}

const TERMINATING = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const ON_DEMAND = 'SIGUSR2';

function signalNumber(name: string): number {
  return (osConstants.signals as Record<string, number | undefined>)[name] ?? 0;
}

let warned = false;
let hooksInstalled = false;

export function startRecorder(options: RecorderOptions = {}): Recorder {
  const capacity = Math.max(16, Math.min(options.capacity ?? DEFAULT_CAPACITY, 1 << 30));
  const threadName = options.threadName ?? (isMainThread ? 'main' : `worker ${threadId}`);
  const hooks = options.exitHooks ?? (isMainThread && options.dumpPath !== undefined);
  const signals = options.signals ?? hooks;
  const addon = options.backend === 'js' ? undefined : loadNative();
  let recorder: Recorder;
  if (addon) {
    recorder = nativeRecorder(addon, capacity, threadName, options, signals);
  } else {
    if (options.backend !== 'js' && !warned) {
      warned = true;
      const message = `viz: native recorder unavailable (${nativeLoadError() ?? 'unknown reason'}); using the JavaScript recorder (slower, no crash dumps)`;
      (options.warn ?? ((m: string) => process.emitWarning(m, { code: 'VIZ_NO_NATIVE' })))(message);
    }
    recorder = jsRecorder(capacity, threadName, options.dumpPath);
    if (signals && isMainThread) installJsSignalDumps(recorder, options.dumpPath);
  }
  // Native dumps cover every thread's ring, so only the main thread hooks exit;
  // a JS worker ring can only be written by its own thread, to its own file.
  if (hooks && !hooksInstalled && (isMainThread || recorder.backend === 'js')) {
    hooksInstalled = true;
    const path = isMainThread ? options.dumpPath : workerDumpPath(options.dumpPath);
    process.on('exit', () => {
      try {
        recorder.dump(path);
      } catch (err) {
        process.stderr.write(`viz: ${(err as Error).message}\n`);
      }
    });
  }
  return recorder;
}

function workerDumpPath(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  return path.endsWith('.vizdump') ? `${path.slice(0, -8)}.t${threadId}.vizdump` : `${path}.t${threadId}`;
}

/** A file index past the list: the frame gets file id 0 (no source position). */
const NO_FILE = 0xffffffff;

function splitPacked(frames: readonly FrameSpec[]): Parameters<NativeAddon['registerFrames']> {
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const names: string[] = [];
  const indexes: number[] = [];
  const lines: number[] = [];
  const columns: number[] = [];
  const kinds: number[] = [];
  for (const f of frames) {
    let fi = f.file === '' ? NO_FILE : fileIndex.get(f.file);
    if (fi === undefined) {
      fi = files.length;
      files.push(f.file);
      fileIndex.set(f.file, fi);
    }
    names.push(f.name);
    indexes.push(fi);
    lines.push(f.line >>> 0);
    columns.push(f.column >>> 0);
    kinds.push((f.kind ?? 0) >>> 0);
  }
  return [files, names, indexes, lines, columns, kinds];
}

function unpack(packed: PackedFrames): Parameters<NativeAddon['registerFrames']> {
  const fr = packed.frames;
  return [
    packed.files,
    fr.map((f) => f[0]),
    fr.map((f) => f[1]),
    fr.map((f) => f[2] >>> 0),
    fr.map((f) => f[3] >>> 0),
    fr.map((f) => f[4] >>> 0),
  ];
}

// ------------------------------------------------------------------ native

function nativeRecorder(
  addon: NativeAddon,
  capacity: number,
  threadName: string,
  options: RecorderOptions,
  signals: boolean,
): Recorder {
  const installSignals = signals && isMainThread;
  const actual = addon.init(capacity, threadId, threadName, options.dumpPath ?? null, installSignals);
  if (installSignals) followSignalListeners(addon);
  const napi = options.backend === 'napi' || !addon.hasFastApi;
  return {
    backend: napi ? 'napi' : 'fast-api',
    capacity: actual,
    clock: addon.clock,
    enter: napi ? addon.napiEnter : addon.enter,
    exit: napi ? addon.napiExit : addon.exit,
    instant: napi ? addon.napiInstant : addon.instant,
    value: napi ? addon.napiValue : addon.value,
    // An addon built before async spans existed has neither: spans are then not recorded.
    asyncBegin: (napi ? addon.napiAsyncBegin : addon.asyncBegin) ?? (() => 0),
    asyncEnd: (napi ? addon.napiAsyncEnd : addon.asyncEnd) ?? (() => {}),
    // Absent from an addon built before they existed: those events are then not recorded.
    record: addon.record ?? (() => {}),
    payload: addon.payload ?? (() => false),
    timedSlice: addon.timedSlice ?? (() => {}),
    setPaused: addon.setPaused ?? (() => {}),
    registerFrames: (frames) => addon.registerFrames(...splitPacked(frames)),
    registerPacked: (packed) => addon.registerFrames(...unpack(packed)),
    dump(path) {
      const n = addon.dump(path);
      if (n < 0) throw new Error(`ring dump to ${path ?? 'the dump path'} failed (errno ${-n})`);
      return n;
    },
    setThreadName: (name) => addon.setThreadName(name),
    stats() {
      const [written, cap, fastCalls] = addon.stats();
      return { written, capacity: cap, overwritten: Math.max(0, written - cap), fastCalls };
    },
  };
}

/**
 * libuv installs its own sigaction when the program adds its first listener
 * for a signal (and resets it to SIG_DFL when the last one goes). Node's own
 * newListener/removeListener hooks, registered at bootstrap, run before ours,
 * so by the time ours runs libuv has acted; we put the native handler back on
 * top, chaining to libuv's (or, after a reset, to the original action).
 */
function followSignalListeners(addon: NativeAddon): void {
  const watched = new Set<string>([...TERMINATING, ON_DEMAND]);
  const reclaim = (event: string | symbol) => {
    if (typeof event === 'string' && watched.has(event)) addon.reclaimSignal(signalNumber(event));
  };
  process.on('newListener', reclaim);
  process.on('removeListener', reclaim);
}

// ---------------------------------------------------------------------- js

const TWO_32 = 4294967296;

/** Ticks of the JS recorder: ns since performance.timeOrigin (exact to the ns: a double holds it). */
function jsTicks(): number {
  return Math.round(performance.now() * 1e6);
}

function jsClockPair(): { ticks: bigint; mono: bigint } {
  // hrtime.bigint() is CLOCK_MONOTONIC in ns; bracket the tick read.
  const m0 = process.hrtime.bigint();
  const t = jsTicks();
  const m1 = process.hrtime.bigint();
  return { ticks: BigInt(t), mono: m0 + (m1 - m0) / 2n };
}

function jsRecorder(requested: number, initialName: string, defaultPath: string | undefined): Recorder {
  let capacity = 16;
  while (capacity < requested) capacity *= 2;
  const mask = capacity - 1;
  const words = new Uint32Array(capacity * 4);
  let written = 0;
  let threadName = initialName;
  const start = jsClockPair();
  const startRealtimeNs =
    BigInt(Math.round((performance.timeOrigin + Number(start.ticks) / 1e6) * 1e3)) * 1000n;
  const frameEntries: Buffer[] = [];
  let nextFrameId = 1;
  let nextFileId = 1;
  let usr2Sequence = 0;
  let nextSpan = 0;
  let paused = false;
  // Payload byte ring (see the schema's PAYLOAD section), allocated on first use.
  const payloadCapacity = capacity * 32;
  let payloadBytes: Buffer | undefined;
  let payloadPos = 0;

  const putAt = (t: number, a: number, kindAux: number): void => {
    const o = (written & mask) << 2;
    const hi = Math.floor(t / TWO_32);
    words[o] = t - hi * TWO_32;
    words[o + 1] = hi;
    words[o + 2] = a;
    words[o + 3] = kindAux;
    written++;
  };
  const put = (a: number, kindAux: number): void => putAt(jsTicks(), a, kindAux);

  const putPayload = (role: number, json: string): boolean => {
    const text = Buffer.from(json, 'utf8');
    if (text.length > payloadCapacity / 4) return false;
    const buf = (payloadBytes ??= Buffer.alloc(payloadCapacity));
    const pmask = payloadCapacity - 1;
    const at = payloadPos & pmask;
    buf.writeUInt32LE(text.length, at);
    buf.writeUInt32LE(0, at + 4);
    const from = (payloadPos + 8) & pmask;
    const head = Math.min(text.length, payloadCapacity - from);
    text.copy(buf, from, 0, head);
    text.copy(buf, 0, head);
    const ref = (payloadPos / 8) % TWO_32;
    payloadPos += 8 + pad8(text.length);
    put(ref, Kind.payload | (role << 8));
    return true;
  };

  const register = (args: Parameters<NativeAddon['registerFrames']>): number => {
    const [files, names, indexes, lines, columns, kinds] = args;
    const firstFile = nextFileId;
    for (const file of files) {
      const bytes = Buffer.from(file, 'utf8');
      const entry = Buffer.alloc(12 + pad4(bytes.length));
      entry.writeUInt32LE(FrameEntry.file, 0);
      entry.writeUInt32LE(nextFileId++, 4);
      entry.writeUInt32LE(bytes.length, 8);
      bytes.copy(entry, 12);
      frameEntries.push(entry);
    }
    const base = nextFrameId;
    names.forEach((name, i) => {
      const bytes = Buffer.from(name, 'utf8');
      const entry = Buffer.alloc(28 + pad4(bytes.length));
      const fi = indexes[i] ?? 0;
      entry.writeUInt32LE(FrameEntry.frame, 0);
      entry.writeUInt32LE(nextFrameId++, 4);
      entry.writeUInt32LE(fi < files.length ? firstFile + fi : 0, 8);
      entry.writeUInt32LE(lines[i] ?? 0, 12);
      entry.writeUInt32LE(columns[i] ?? 0, 16);
      entry.writeUInt32LE(kinds[i] ?? 0, 20);
      entry.writeUInt32LE(bytes.length, 24);
      bytes.copy(entry, 28);
      frameEntries.push(entry);
    });
    return base;
  };

  const encode = (signal: number): Buffer[] => {
    const dumpPair = jsClockPair();
    const header = Buffer.alloc(HEADER_BYTES);
    header.set(MAGIC, 0);
    header.writeUInt16LE(VERSION, 8);
    header.writeUInt16LE(HEADER_BYTES, 10);
    header.writeUInt32LE(0, 12); // ticks are not TSC
    header.writeUInt32LE(process.pid, 16);
    header.writeUInt32LE(signal, 20);
    header.writeBigUInt64LE(start.ticks, 24);
    header.writeBigUInt64LE(start.mono, 32);
    header.writeBigUInt64LE(dumpPair.ticks, 40);
    header.writeBigUInt64LE(dumpPair.mono, 48);
    header.writeBigUInt64LE(startRealtimeNs, 56);
    const out: Buffer[] = [header];
    const section = (type: number, length: number) => {
      const s = Buffer.alloc(SECTION_HEADER_BYTES);
      s.writeUInt32LE(type, 0);
      s.writeBigUInt64LE(BigInt(length), 8);
      out.push(s);
    };
    const cmdline = commandLine();
    section(Section.process, pad8(8 + cmdline.length));
    const ph = Buffer.alloc(8);
    ph.writeUInt32LE(cmdline.length, 0);
    ph.writeUInt32LE(process.ppid >>> 0, 4);
    out.push(ph, cmdline, Buffer.alloc(pad8(8 + cmdline.length) - 8 - cmdline.length));
    const frameBytes = frameEntries.reduce((n, b) => n + b.length, 0);
    section(Section.frames, pad8(frameBytes));
    out.push(...frameEntries, Buffer.alloc(pad8(frameBytes) - frameBytes));
    if (payloadBytes !== undefined) {
      const pcount = Math.min(payloadPos, payloadCapacity);
      const pfirst = payloadPos - pcount;
      section(Section.payload, PAYLOAD_HEADER_BYTES + pcount + PAYLOAD_TRAILER_BYTES);
      const ph2 = Buffer.alloc(PAYLOAD_HEADER_BYTES);
      ph2.writeUInt32LE(jsThreadTid(), 0);
      ph2.writeInt32LE(threadId, 4);
      ph2.writeBigUInt64LE(BigInt(payloadCapacity), 8);
      ph2.writeBigUInt64LE(BigInt(payloadPos), 16);
      ph2.writeBigUInt64LE(BigInt(pfirst), 24);
      ph2.writeBigUInt64LE(BigInt(pcount), 32);
      const pstart = pfirst % payloadCapacity;
      const phead = Math.min(pcount, payloadCapacity - pstart);
      const ptrailer = Buffer.alloc(PAYLOAD_TRAILER_BYTES);
      ptrailer.writeBigUInt64LE(BigInt(payloadPos), 0);
      out.push(
        ph2,
        payloadBytes.subarray(pstart, pstart + phead),
        payloadBytes.subarray(0, pcount - phead),
        ptrailer,
      );
    }
    const count = Math.min(written, capacity);
    const first = written - count;
    section(Section.ring, RING_HEADER_BYTES + count * RECORD_BYTES + RING_TRAILER_BYTES);
    const rh = Buffer.alloc(RING_HEADER_BYTES);
    rh.writeUInt32LE(jsThreadTid(), 0);
    rh.writeInt32LE(threadId, 4);
    rh.writeUInt32LE(capacity, 8);
    rh.writeUInt32LE(RECORD_BYTES, 12);
    rh.writeBigUInt64LE(BigInt(written), 16);
    rh.writeBigUInt64LE(BigInt(first), 24);
    rh.writeBigUInt64LE(BigInt(count), 32);
    rh.writeUInt32LE(0, 40); // the JS writer is never mid-record during a dump
    Buffer.from(threadName, 'utf8')
      .subarray(0, THREAD_NAME_BYTES - 1)
      .copy(rh, 48);
    out.push(rh);
    const bytes = Buffer.from(words.buffer, words.byteOffset, words.byteLength);
    const startSlot = first & mask;
    const head = Math.min(count, capacity - startSlot);
    out.push(bytes.subarray(startSlot * RECORD_BYTES, (startSlot + head) * RECORD_BYTES));
    out.push(bytes.subarray(0, (count - head) * RECORD_BYTES));
    const trailer = Buffer.alloc(RING_TRAILER_BYTES);
    trailer.writeBigUInt64LE(BigInt(written), 0);
    out.push(trailer);
    section(Section.end, 0);
    return out;
  };

  const writeDump = (path: string | undefined, signal: number): number => {
    const target = path ?? defaultPath;
    if (target === undefined) throw new Error('no dump path (set dumpPath when starting the recorder)');
    const fd = openSync(target, 'w');
    let n = 0;
    try {
      for (const b of encode(signal)) {
        let off = 0;
        while (off < b.length) off += writeSync(fd, b, off, b.length - off);
        n += b.length;
      }
    } finally {
      closeSync(fd);
    }
    return n;
  };

  const rec: Recorder & { dumpForSignal(signal: number, numbered: boolean): void } = {
    backend: 'js',
    capacity,
    clock: 'hrtime',
    enter: (frameId: number) => {
      if (!paused) put(frameId, Kind.enter);
    },
    exit: (frameId: number) => {
      if (!paused) put(frameId, Kind.exit);
    },
    instant: (frameId: number) => put(frameId, Kind.instant),
    value: (nameFrameId: number, value: number) =>
      put(value >>> 0, Kind.value | ((nameFrameId & MAX_AUX) << 8)),
    asyncBegin: (frameId: number) => {
      if (paused) return 0;
      nextSpan = nextSpan >= 0x7fffffff ? 1 : nextSpan + 1;
      put(nextSpan, Kind.asyncBegin | ((frameId & MAX_AUX) << 8));
      return nextSpan;
    },
    asyncEnd: (frameId: number, spanId: number) => {
      if (spanId) put(spanId >>> 0, Kind.asyncEnd | ((frameId & MAX_AUX) << 8));
    },
    record: (kind: number, a: number, aux: number) => {
      if (kind === Kind.instant || kind === Kind.counter || kind === Kind.object || kind === Kind.value)
        put(a >>> 0, kind | ((aux & MAX_AUX) << 8));
    },
    payload: putPayload,
    timedSlice: (startMonotonicNs: number, durationNs: number, nameFrameId: number) => {
      if (startMonotonicNs > 0 && durationNs >= 0)
        putAt(
          startMonotonicNs,
          Math.min(durationNs, 0xffffffff) >>> 0,
          Kind.timedSlice | ((nameFrameId & MAX_AUX) << 8),
        );
    },
    setPaused: (p: boolean) => {
      if (p !== paused) put(0, p ? Kind.pause : Kind.resume);
      paused = p;
    },
    registerFrames: (frames) => register(splitPacked(frames)),
    registerPacked: (packed) => register(unpack(packed)),
    dump: (path) => writeDump(path, 0),
    setThreadName: (name) => {
      threadName = name;
    },
    stats: () => ({ written, capacity, overwritten: Math.max(0, written - capacity), fastCalls: 0 }),
    dumpForSignal(signal, numbered) {
      if (defaultPath === undefined) return;
      writeDump(numbered ? numberedDumpPath(defaultPath, ++usr2Sequence) : defaultPath, signal);
    },
  };
  return rec;
}

/** The OS thread id is not visible from JS: the main thread's equals the pid; workers get 2^30 + threadId. */
function jsThreadTid(): number {
  return isMainThread ? process.pid : 0x40000000 + threadId;
}

function commandLine(): Buffer {
  try {
    return readFileSync('/proc/self/cmdline');
  } catch {
    return Buffer.from(
      [process.execPath, ...process.execArgv, ...process.argv.slice(1)].join('\0') + '\0',
      'utf8',
    );
  }
}

/**
 * Signal dumps without the addon: JS listeners (the best JS can do). A
 * listener changes what the signal does, so when ours is the only one we
 * remove it and re-send the signal after the dump: the process then dies by
 * it as it would have untraced.
 */
function installJsSignalDumps(recorder: Recorder, path: string | undefined): void {
  if (path === undefined) return;
  const rec = recorder as Recorder & { dumpForSignal(signal: number, numbered: boolean): void };
  for (const name of TERMINATING) {
    const onSignal = () => {
      rec.dumpForSignal(signalNumber(name), false);
      if (process.listenerCount(name) === 1) {
        process.removeListener(name, onSignal);
        process.kill(process.pid, name);
      }
    };
    process.on(name, onSignal);
  }
  process.on(ON_DEMAND, () => rec.dumpForSignal(signalNumber(ON_DEMAND), true));
}
