/**
 * The one place that loads the native recorder addon, through node-gyp-build:
 * a local build (`build/Release`, made by `npm install` from source) wins,
 * then a matching prebuild in `prebuilds/<platform>-<arch>/` (ABI-specific
 * builds, which carry the V8 fast API entry points, before the portable
 * N-API one). Loading is lazy and cached; `VIZ_NO_NATIVE=1` turns it off.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What `native/addon.cc` exports. Per-event functions take int32 only. */
export interface NativeAddon {
  /** True when enter/exit/instant/value are V8 fast API calls. */
  readonly hasFastApi: boolean;
  readonly clock: 'tsc' | 'monotonic';
  enter(frameId: number): void;
  exit(frameId: number): void;
  instant(frameId: number): void;
  value(nameFrameId: number, value: number): void;
  /** Async span begin: records the next span id of this thread (from 1) and returns it. */
  asyncBegin(frameId: number): number;
  /** Async span end of the span `asyncBegin` returned (0: ignored). */
  asyncEnd(frameId: number, spanId: number): void;
  /** The same, always through plain N-API callbacks (portable path, benchmarks). */
  napiEnter(frameId: number): void;
  napiExit(frameId: number): void;
  napiInstant(frameId: number): void;
  napiValue(nameFrameId: number, value: number): void;
  napiAsyncBegin(frameId: number): number;
  napiAsyncEnd(frameId: number, spanId: number): void;
  /** An instant (kind 3, aux = scope), counter (9), object (10) or value (4) record. Absent in older builds. */
  record?(kind: number, a: number, aux: number): void;
  /** A slice timed by someone else (V8's GC), start in CLOCK_MONOTONIC ns. */
  timedSlice?(startMonotonicNs: number, durationNs: number, nameFrameId: number): void;
  /** JSON text for the previous record (role 1) or the innermost frame's return value (role 2). */
  payload?(role: number, json: string): boolean;
  /** stop()/start(): calls are not recorded while paused (process-wide). */
  setPaused?(paused: boolean): void;
  /** Creates this thread's ring (idempotent); returns its capacity in events. */
  init(
    capacity: number,
    nodeThreadId: number,
    threadName: string,
    dumpPath: string | null,
    installSignals: boolean,
  ): number;
  registerFrames(
    files: string[],
    names: string[],
    fileIndexes: number[],
    lines: number[],
    columns: number[],
    kinds: number[],
  ): number;
  /** Bytes written, or -errno (e.g. -16 when another dump is in progress). */
  dump(path?: string): number;
  setThreadName(name: string): void;
  setDumpPath(path: string): void;
  reclaimSignal(signal: number): void;
  /** [writeIndex, capacity, fastCalls, frameCount] of the calling thread. */
  stats(): [number, number, number, number];
  /**
   * The ring dump -> Perfetto loops (`native/call_codec.cc`): `PerfettoEncoder.callRun`'s fixed
   * packets and `RingDumpReader.callRuns`' record decoding, common cases only. Each returns where
   * it stopped for the JavaScript to go on. Absent in older builds.
   */
  encodeCalls?(
    kind: Uint8Array,
    frame: Uint32Array,
    ts: Float64Array,
    from: number,
    count: number,
    tails: Uint8Array,
    endTail: Uint8Array,
    upperBytes: Uint8Array,
    state: Float64Array,
    out: Uint8Array,
  ): number;
  callsInOrder?(records: Uint32Array, last: Float64Array): boolean;
  decodeCalls?(
    records: Uint32Array,
    clock: Float64Array,
    stack: Uint32Array,
    state: Float64Array,
    kind: Uint8Array,
    frame: Uint32Array,
    ts: Float64Array,
  ): void;
  /**
   * One zlib stream of `bytes` (node:zlib's defaults, the same bytes as `zlib.deflate`), made on
   * libuv's thread pool without node:zlib's per-call stream objects. Absent in older builds.
   */
  deflate?(bytes: Uint8Array, level: number): Promise<Buffer>;
  /** Dereferences a null pointer (tests of the SIGSEGV dump). */
  crash(): never;
}

let cached: { addon: NativeAddon | undefined; error: string | undefined } | undefined;

/** The package root: the nearest directory upwards with binding.gyp. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('binding.gyp not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** The addon, or undefined (with `nativeLoadError()` saying why). */
export function loadNative(): NativeAddon | undefined {
  if (cached) return cached.addon;
  if (process.env.VIZ_NO_NATIVE === '1') {
    cached = { addon: undefined, error: 'disabled by VIZ_NO_NATIVE=1' };
    return undefined;
  }
  try {
    const require = createRequire(import.meta.url);
    const load = require('node-gyp-build') as (dir: string) => unknown;
    cached = { addon: load(packageRoot()) as NativeAddon, error: undefined };
  } catch (err) {
    const message = (err as Error).message.split('\n')[0] ?? String(err);
    cached = { addon: undefined, error: message };
  }
  return cached.addon;
}

export function nativeLoadError(): string | undefined {
  loadNative();
  return cached?.error;
}
