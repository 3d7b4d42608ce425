/**
 * Perfetto protobuf writer: any `TraceSource` -> a stream of `TracePacket` records
 * (tag 0x0A + length + packet), appended one at a time; the trace is never held.
 *
 * Data path: `timeOrdered` puts events in time order, `SliceNester` decides the call tree
 * (B/E/X nesting, clipping, unclosed slices), and this file only encodes what it is told:
 * - one packet sequence per input thread (trusted_packet_sequence_id = 1, 2, ... in order of first
 *   use). The nester reports the end of an `X` slice when the next event of *that thread* arrives,
 *   so packets are in time order per thread but not across threads; one sequence per thread keeps
 *   timestamps non-decreasing on every sequence (trace_processor sorts globally anyway).
 * - interning per sequence (event names, categories, debug annotation names, source locations);
 *   the first packet of a sequence sets SEQ_INCREMENTAL_STATE_CLEARED, every packet using iids sets
 *   SEQ_NEEDS_INCREMENTAL_STATE. When a sequence has interned `maxInterned` entries its state is
 *   cleared and re-emitted, so memory stays bounded on traces with unbounded distinct names.
 * - track uuids are 64-bit FNV-1a hashes of the track's identity (pid, tid, counter name, async id),
 *   so the same input always gives the same bytes.
 * - descriptors: a track's TrackDescriptor is written before its first event. A name that arrives
 *   later (VizTracer writes `M` events last; the ring dump's name table) is published by writing
 *   the same descriptor again (same uuid, same kind) with the name: trace_processor applies
 *   the latest thread/process name, and the validator checks the kind never changes.
 * - timestamps: absolute ns = meta.baseUs * 1000 + ev.ts, computed in two 32-bit halves so values
 *   beyond 2^53 stay exact; timestamp_clock_id is left unset (trace default clock).
 */
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import type { Output } from '../../io/output.js';
import type { Diagnostics } from '../../model/diagnostics.js';
import { threadKey, type Ident, type TraceEvent } from '../../model/event.js';
import {
  SliceNester,
  type EndReason,
  type OpenSlice,
  type SliceHandler,
  type ThreadStack,
} from '../../model/nesting.js';
import { timeOrdered, type Ordering } from '../../model/order.js';
import { loadNative, type NativeAddon } from '../../record/native.js';
import {
  CALL_ENTER,
  CALL_EXIT,
  CALL_EXIT_UNCLOSED,
  hasCallRuns,
  isCallRun,
  UNCLOSED_ARGS,
  type CallRun,
  type TraceMeta,
  type TraceSource,
} from '../../model/source.js';
import type { EventBatch } from '../../model/event.js';
import { encodeValue, NotSimple, transcodeArgs } from './args.js';
import { encodeVarintField, hash64, ProtoWriter, readVarint, WT } from './encoder.js';
import {
  F,
  SEQ_INCREMENTAL_STATE_CLEARED,
  SEQ_NEEDS_INCREMENTAL_STATE,
  TYPE_COUNTER,
  TYPE_INSTANT,
  TYPE_SLICE_BEGIN,
  TYPE_SLICE_END,
} from './fields.js';

/** trace_processor keeps at most this many nested slices per track and drops deeper ones. */
export const MAX_DEPTH = 512;
/** Debug annotation names viz uses to carry what TrackEvent has no field for. */
export const VIZ_END_REASON = 'viz.end_reason';
export const VIZ_FLOW_PHASE = 'viz.flow_phase';
export const VIZ_FLOW_ID = 'viz.flow_id';
export const VIZ_FLOW_BP = 'viz.flow_bp';
/** Object events (`N`/`O`/`D`) are instants in this category (unless they have their own)... */
export const OBJECT_CATEGORY = 'object';
/** ...carrying these debug annotations: the phase (`new`/`snapshot`/`delete`) and the object's id. */
export const OBJECT_PHASE = 'phase';
export const OBJECT_ID = 'id';
/** Chrome phase -> `phase` annotation value of an object event. */
export const OBJECT_PHASES: Readonly<Record<string, string>> = { N: 'new', O: 'snapshot', D: 'delete' };

export interface PerfettoWriteOptions {
  /** Reorder window handed to `timeOrdered`. */
  window?: number;
  /** `timeOrdered`'s `external` and `lateEvents` (see `convert`). */
  ordering?: Ordering;
  /** Interned entries per sequence before its incremental state is cleared and rebuilt. */
  maxInterned?: number;
  /** Bytes of packets buffered before they are handed to the output (or compressed). */
  flushBytes?: number;
  /**
   * Wrap packets in `compressed_packets` containers (zlib deflate of ~256 KB of records each, as
   * the Perfetto service writes them; trace_processor and the UI inflate them). Default: on,
   * unless VIZ_PERFETTO_COMPRESS=0.
   */
  compress?: boolean;
  /** zlib level for `compress` (default 1: fastest, about 4x smaller). */
  level?: number;
  /**
   * Use the native addon when it is loaded (default true): its loop for runs of ring dump calls,
   * and its deflate. False: JavaScript and node:zlib only, the same bytes.
   */
  native?: boolean;
}

const TWO32 = 4294967296;
const deflateAsync = promisify(deflate);
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

type TrackKind = 'process' | 'thread' | 'async' | 'counter' | 'global';

interface Track {
  uuid: bigint;
  /** `track_uuid` field (TrackEvent field 11), pre-encoded. */
  field: Uint8Array;
  kind: TrackKind;
  parent: Track | undefined;
  pid: number;
  tid: number;
  name: string | undefined;
  /** Counter tracks: the counter's name (y_axis_share_key), the track name is `share.key`. */
  shareKey?: string;
  emitted: boolean;
  emittedName: string | undefined;
  /** Async tracks: names of the open slices, innermost last. */
  open?: string[];
  /** Async tracks: the sequence of the last event written on the track. */
  seq?: Sequence;
}

interface NameEntry {
  iid: number;
  loc: number;
}

class Sequence {
  started = false;
  clearPending = false;
  readonly idField: Uint8Array;
  names = new Map<string, NameEntry>();
  cats = new Map<string, number>();
  annNames = new Map<string, number>();
  locs = new Map<string, number>();
  nextName = 1;
  nextCat = 1;
  nextAnn = 1;
  nextLoc = 1;
  size = 0;
  /** The thread track of this sequence: written as TrackEventDefaults.track_uuid, then omitted. */
  thread: Track | undefined;
  defaultsSet = false;
  /**
   * `callRun`: open calls on this thread, and the packet tail of each frame's begin by frame id
   * (`TAIL_STRIDE` bytes per frame: a length byte, 0 for none yet, then the tail).
   */
  callDepth = 0;
  frameTable: CallRun['frames'] | undefined;
  tails = new Uint8Array(0);
  endTail: Uint8Array | undefined;
  /**
   * The debug annotations `transcodeArgs` wrote for an args text, by text: args repeat (the same
   * small values, over and over), and these bytes refer to iids interned on this sequence.
   */
  encodedArgs = new Map<string, Uint8Array>();
  constructor(readonly id: number) {
    this.idField = encodeVarintField(F.trustedPacketSequenceId, id);
  }
  clear(): void {
    this.names = new Map();
    this.cats = new Map();
    this.annNames = new Map();
    this.locs = new Map();
    this.nextName = this.nextCat = this.nextAnn = this.nextLoc = 1;
    this.size = 0;
    this.clearPending = true;
    this.defaultsSet = false;
    this.tails.fill(0);
    this.encodedArgs.clear();
  }
  setTail(frame: number, tail: Uint8Array): void {
    const at = frame * TAIL_STRIDE;
    if (at >= this.tails.length) {
      const grown = new Uint8Array(Math.max(2 * this.tails.length, at + TAIL_STRIDE * 256));
      grown.set(this.tails);
      this.tails = grown;
    }
    this.tails[at] = tail.length;
    this.tails.set(tail, at + 1);
  }
}

/**
 * Whether a cache is worth its lookups: in every window of `TRIAL` uses, a hit rate under a
 * quarter turns it off for the next `PAUSE` uses (a miss costs a hash, a copy and an entry;
 * traces whose args never repeat would pay that on every event).
 */
export class CacheThrottle {
  static readonly TRIAL = 8192;
  static readonly PAUSE = 1 << 18;
  hits = 0;
  private tries = 0;
  private paused = 0;
  use(): boolean {
    if (this.paused > 0) {
      this.paused--;
      return false;
    }
    if (++this.tries === CacheThrottle.TRIAL) {
      if (this.hits * 4 < this.tries) this.paused = CacheThrottle.PAUSE;
      this.tries = this.hits = 0;
    }
    return true;
  }
}

/** Args texts longer than this are transcoded every time (long ones seldom repeat). */
const MAX_CACHED_ARGS = 256;
/** Encoded args kept per sequence (started afresh when full). */
const MAX_CACHED_ARGS_ENTRIES = 4096;

/** Bytes per frame in `Sequence.tails` (a packet tail is at most 24 bytes). */
const TAIL_STRIDE = 32;

const SOURCE_LOCATION = /^(.*) \(([^()]+?):(\d+)(?::\d+)?\)$/;

/** The track event of a slice-end packet on the sequence's default track. */
const END_TRACK_EVENT = (() => {
  const t = new ProtoWriter(16);
  const m = t.begin(F.trackEvent);
  t.fieldVarint(F.type, TYPE_SLICE_END);
  t.end(m);
  return t.bytes();
})();

export class PerfettoEncoder implements SliceHandler {
  readonly w = new ProtoWriter();
  private readonly seqs = new Map<ThreadStack, Sequence>();
  private nextSeq = 1;
  private readonly tracks = new Map<string, Track>();
  private readonly skipped = new WeakSet<OpenSlice>();
  private readonly procNames = new Map<Ident, string>();
  private readonly threadNames = new Map<string, string>();
  private readonly syntheticIds = new Map<string, number>();
  private nextSynthetic = 0x7f000000;
  private baseHi = 0;
  private baseLo = 0;
  private baseKnown = false;
  private readonly maxInterned: number;
  /** Whether looking args texts up in `Sequence.encodedArgs` pays, for this trace. */
  private readonly argsCache = new CacheThrottle();
  /** The addon's loop for `callRun`'s fixed packets, when loaded and wanted. */
  private readonly nativeEncode: NativeAddon['encodeCalls'];
  /** `encodeCalls`' state slots: out position, depth, depth limit, base hi/lo, upper bits, max ts. */
  private readonly nativeState = new Float64Array(7);
  // Interned entries added by the packet being encoded.
  private newNames: (number | string)[] = [];
  private newCats: (number | string)[] = [];
  private newAnns: (number | string)[] = [];
  private newLocs: (number | string)[] = [];
  private usedIids = false;

  constructor(
    private readonly meta: TraceMeta,
    private readonly diagnostics: Diagnostics,
    options: PerfettoWriteOptions = {},
  ) {
    this.maxInterned = options.maxInterned ?? 1_000_000;
    if (options.native !== false) this.nativeEncode = loadNative()?.encodeCalls;
  }

  // ---------------------------------------------------------------- SliceHandler

  enter(slice: OpenSlice): void {
    if (slice.depth >= MAX_DEPTH || !Number.isFinite(slice.ts)) {
      this.skipped.add(slice);
      if (slice.depth >= MAX_DEPTH) this.tooDeep(slice.name, slice.thread);
      else this.missingTs(slice.begin);
      return;
    }
    const ev = slice.begin;
    const seq = this.seqFor(slice.thread);
    const track = this.threadTrack(slice.thread, seq);
    const rec = this.beginEvent(seq, slice.ts, track, TYPE_SLICE_BEGIN);
    this.nameAndCat(seq, ev.name, ev.cat);
    if (ev.args !== '') this.annotations(seq, ev.args, ev.name);
    if (ev.extra !== undefined && ev.extra.bind_id !== undefined) this.flowV2(ev);
    this.endEvent(seq, rec);
  }

  exit(slice: OpenSlice, endTs: number, reason: EndReason, endEvent: TraceEvent | undefined): void {
    if (this.skipped.has(slice)) {
      this.skipped.delete(slice);
      return;
    }
    const seq = this.seqFor(slice.thread);
    const track = this.threadTrack(slice.thread, seq);
    const rec = this.beginEvent(seq, endTs, track, TYPE_SLICE_END);
    if (endEvent && endEvent.args !== '') this.annotations(seq, endEvent.args, endEvent.name);
    if (reason === 'unclosed' || reason === 'forced') {
      const m = this.w.begin(F.debugAnnotations);
      this.w.fieldVarint(F.daNameIid, this.annIid(seq, VIZ_END_REASON));
      this.w.fieldString(F.daString, reason);
      this.w.end(m);
    }
    if (endEvent?.extra !== undefined && endEvent.extra.bind_id !== undefined) this.flowV2(endEvent);
    this.endEvent(seq, rec);
  }

  other(ev: TraceEvent, th: ThreadStack): void {
    switch (ev.ph) {
      case 'M':
        this.metadata(ev, th);
        return;
      case 'i':
      case 'I':
      case 'R':
        this.instant(ev, th);
        return;
      case 'C':
        this.counter(ev, th);
        return;
      case 'b':
      case 'e':
      case 'n':
      case 'S':
      case 'T':
      case 'p':
      case 'F':
        this.async(ev, th);
        return;
      case 's':
      case 't':
      case 'f':
        this.flowV1(ev, th);
        return;
      case 'N':
      case 'O':
      case 'D':
        this.object(ev, th);
        return;
      default:
        this.diagnostics.add(
          'perfetto_unsupported_phase',
          'info',
          `phase "${ev.ph}" events (first: "${ev.name}") have no TrackEvent equivalent; not written`,
        );
    }
  }

  private tooDeep(name: string, th: ThreadStack): void {
    this.diagnostics.add(
      'slice_depth_truncated',
      'data_loss',
      `slices nested deeper than ${MAX_DEPTH} on one thread are not written (Perfetto drops them); first: "${name}" on thread ${th.pid}/${th.tid}`,
    );
  }

  // ---------------------------------------------------------------- calls as columns

  /**
   * The packets `enter` and `exit` write for the `B`/`E` events of a `CallRun`'s calls, without
   * an event or slice object per call. Once a frame's name is interned on the sequence (and the
   * sequence's defaults are set), a packet is fixed bytes around the timestamp. A thread's calls
   * come either all as runs or all as events, so the depth kept here is the thread's nesting.
   */
  callRun(run: CallRun, th: ThreadStack): void {
    const seq = this.seqFor(th);
    const track = this.threadTrack(th, seq);
    if (seq.frameTable !== run.frames) {
      seq.frameTable = run.frames;
      seq.tails.fill(0);
    }
    const { kind, frame, ts } = run;
    const endTail = (seq.endTail ??= packetTail(seq, END_TRACK_EVENT));
    // Re-checked after every packet written the general way (it may intern, set defaults, clear).
    let steady = this.steady(seq, track);
    for (let i = 0; i < run.count; i++) {
      if (steady && this.nativeEncode !== undefined) {
        // The addon writes the fixed packets up to the next entry that needs what follows.
        i = this.encodeNatively(this.nativeEncode, run, seq, i, endTail);
        if (i >= run.count) break;
      }
      const k = kind[i]!;
      const t = ts[i]!;
      if (k === CALL_ENTER) {
        const f = frame[i]!;
        if (seq.callDepth++ >= MAX_DEPTH) {
          this.tooDeep(run.frames.name(f), th);
          continue;
        }
        const at = f * TAIL_STRIDE;
        if (steady && at < seq.tails.length && seq.tails[at] !== 0) {
          if (this.fixedPacket(t, seq.tails.subarray(at + 1, at + 1 + seq.tails[at]!))) continue;
        }
        const name = run.frames.name(f);
        const rec = this.beginEvent(seq, t, track, TYPE_SLICE_BEGIN);
        this.nameAndCat(seq, name, '');
        this.endEvent(seq, rec);
        seq.setTail(f, packetTail(seq, beginTrackEvent(seq.names.get(name)!)));
        steady = this.steady(seq, track);
      } else {
        if (--seq.callDepth >= MAX_DEPTH) continue;
        if (k === CALL_EXIT && steady && this.fixedPacket(t, endTail)) continue;
        const rec = this.beginEvent(seq, t, track, TYPE_SLICE_END);
        if (k === CALL_EXIT_UNCLOSED) this.annotations(seq, UNCLOSED_ARGS, '');
        this.endEvent(seq, rec);
        steady = this.steady(seq, track);
      }
    }
  }

  /** `callRun`'s fixed packets from entry `from` on, by the addon; returns where it stopped. */
  private encodeNatively(
    encode: NonNullable<NativeAddon['encodeCalls']>,
    run: CallRun,
    seq: Sequence,
    from: number,
    endTail: Uint8Array,
  ): number {
    const s = this.nativeState;
    const w = this.w;
    w.ensure(1 << 16);
    s[0] = w.pos;
    s[1] = seq.callDepth;
    s[2] = MAX_DEPTH;
    s[3] = this.baseKnown ? this.baseHi : Number.NaN; // NaN: not known yet, nothing is written
    s[4] = this.baseLo;
    s[5] = this.tsUpper;
    s[6] = this.maxTs;
    const next = encode(
      run.kind,
      run.frame,
      run.ts,
      from,
      run.count,
      seq.tails,
      endTail,
      this.tsTail,
      s,
      w.buf,
    );
    w.pos = s[0]!;
    seq.callDepth = s[1]!;
    this.maxTs = s[6]!;
    return next;
  }

  /** Whether the next packet on `track` needs nothing beyond its fixed bytes (see `endEvent`). */
  private steady(seq: Sequence, track: Track): boolean {
    return (
      track === seq.thread &&
      seq.defaultsSet &&
      seq.started &&
      !seq.clearPending &&
      seq.size < this.maxInterned
    );
  }

  /**
   * A packet: the timestamp, then `tail` (sequence id, track event, sequence flags), written as
   * `timestamp` would. False, writing nothing, when the time needs `timestamp`'s rarer cases.
   */
  private fixedPacket(ts: number, tail: Uint8Array): boolean {
    const lo = this.usualTimestamp(ts);
    if (lo < 0) return false;
    const w = this.w;
    w.ensure(32 + tail.length);
    const b = w.buf;
    const start = w.pos;
    b[start] = 0x0a; // field 1 (packet), length-delimited; its length byte follows
    b[start + 2] = 0x40; // TracePacket.timestamp, varint
    let p = this.writeUsualTimestamp(b, start + 3, lo);
    for (let i = 0; i < tail.length; i++) b[p++] = tail[i]!;
    b[start + 1] = p - start - 2;
    w.pos = p;
    return true;
  }

  // ---------------------------------------------------------------- events

  private instant(ev: TraceEvent, th: ThreadStack): void {
    if (!Number.isFinite(ev.ts)) return this.missingTs(ev);
    const seq = this.seqFor(th);
    const scope = ev.extra?.s;
    let track: Track;
    if (scope === '"g"') track = this.globalTrack(seq);
    else if (scope === '"p"') track = this.processTrack(ev.pid, seq);
    else track = this.threadTrack(th, seq);
    const rec = this.beginEvent(seq, ev.ts, track, TYPE_INSTANT);
    this.nameAndCat(seq, ev.name, ev.cat);
    if (ev.args !== '') this.annotations(seq, ev.args, ev.name);
    this.endEvent(seq, rec);
  }

  private counter(ev: TraceEvent, th: ThreadStack): void {
    if (!Number.isFinite(ev.ts)) return this.missingTs(ev);
    const args = this.parseArgs(ev.args, ev.name);
    if (!args) return;
    const seq = this.seqFor(th);
    for (const key of Object.keys(args)) {
      let v = args[key];
      if (typeof v === 'string' && v.trim() !== '') v = Number(v);
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        this.diagnostics.add(
          'counter_not_number',
          'error',
          `counter "${ev.name}" series "${key}" has a non-numeric value; skipped`,
        );
        continue;
      }
      const track = this.counterTrack(ev, key, seq);
      const rec = this.beginEvent(seq, ev.ts, track, TYPE_COUNTER);
      if (Number.isSafeInteger(v)) this.w.fieldInt64(F.counterValue, v);
      else this.w.fieldDouble(F.doubleCounterValue, v);
      this.endEvent(seq, rec);
    }
  }

  private async(ev: TraceEvent, th: ThreadStack): void {
    if (!Number.isFinite(ev.ts)) return this.missingTs(ev);
    const seq = this.seqFor(th);
    const track = this.asyncTrack(ev, seq);
    const open = track.open!;
    track.seq = seq;
    const ph = ev.ph;
    if (ph === 'b' || ph === 'S') {
      open.push(ev.name);
      const rec = this.beginEvent(seq, ev.ts, track, TYPE_SLICE_BEGIN);
      this.nameAndCat(seq, ev.name, ev.cat);
      if (ev.args !== '') this.annotations(seq, ev.args, ev.name);
      if (ev.extra?.bind_id !== undefined) this.flowV2(ev);
      this.endEvent(seq, rec);
      return;
    }
    if (ph === 'e' || ph === 'F') {
      let i = open.length - 1;
      if (ev.name !== '') while (i >= 0 && open[i] !== ev.name) i--;
      if (i < 0) {
        this.diagnostics.add(
          'unmatched_async_end',
          'error',
          `async end "${ev.name}" at ${ev.ts} ns matches no open async slice; dropped`,
        );
        return;
      }
      while (open.length - 1 > i) {
        open.pop();
        this.diagnostics.add(
          'async_end_closes_children',
          'error',
          `async end "${ev.name}" also closes slices opened after it`,
        );
        const r = this.beginEvent(seq, ev.ts, track, TYPE_SLICE_END);
        this.endEvent(seq, r);
      }
      open.pop();
      const rec = this.beginEvent(seq, ev.ts, track, TYPE_SLICE_END);
      if (ev.args !== '') this.annotations(seq, ev.args, ev.name);
      if (ev.extra?.bind_id !== undefined) this.flowV2(ev);
      this.endEvent(seq, rec);
      return;
    }
    // n, T, p: instants on the async track
    const rec = this.beginEvent(seq, ev.ts, track, TYPE_INSTANT);
    this.nameAndCat(seq, ev.name, ev.cat);
    if (ev.args !== '') this.annotations(seq, ev.args, ev.name);
    if (ev.extra?.bind_id !== undefined) this.flowV2(ev);
    this.endEvent(seq, rec);
  }

  /**
   * Flow events (s/t/f) become instants on the thread at their timestamp (nested in the
   * enclosing slice) carrying the flow id; `viz.flow_*` annotations keep the phase and the
   * original id so the reader gives back the same s/t/f events.
   */
  private flowV1(ev: TraceEvent, th: ThreadStack): void {
    if (!Number.isFinite(ev.ts)) return this.missingTs(ev);
    const seq = this.seqFor(th);
    const track = this.threadTrack(th, seq);
    const idText = ev.id !== '' ? ev.id : (ev.extra?.id2 ?? '');
    const flowId = hash64(`v1\u0000${ev.cat}\u0000${ev.name}\u0000${idText}`);
    const rec = this.beginEvent(seq, ev.ts, track, TYPE_INSTANT);
    this.nameAndCat(seq, ev.name, ev.cat);
    if (ev.args !== '') this.annotations(seq, ev.args, ev.name);
    this.stringAnnotation(seq, VIZ_FLOW_PHASE, ev.ph);
    this.stringAnnotation(seq, VIZ_FLOW_ID, idText);
    const bp = ev.extra?.bp;
    if (bp !== undefined) this.stringAnnotation(seq, VIZ_FLOW_BP, safeParse(bp));
    this.w.fieldFixed64(ev.ph === 'f' ? F.terminatingFlowIds : F.flowIds, flowId);
    this.endEvent(seq, rec);
  }

  /**
   * Object events (`N` new, `O` snapshot, `D` delete): TrackEvent has no object snapshots, so each
   * becomes an instant on its thread, named after the object, in category `object` (or the
   * event's own), with the annotations `phase` (`new`/`snapshot`/`delete`) and `id` (the id as
   * written: a string or a number). Args are annotated as on any event, so an `O` event's
   * `snapshot` becomes one `snapshot` annotation holding its fields as nested entries.
   */
  private object(ev: TraceEvent, th: ThreadStack): void {
    if (!Number.isFinite(ev.ts)) return this.missingTs(ev);
    const seq = this.seqFor(th);
    const track = this.threadTrack(th, seq);
    const rec = this.beginEvent(seq, ev.ts, track, TYPE_INSTANT);
    this.nameAndCat(seq, ev.name, ev.cat !== '' ? ev.cat : OBJECT_CATEGORY);
    if (ev.args !== '') this.annotations(seq, ev.args, ev.name);
    this.stringAnnotation(seq, OBJECT_PHASE, OBJECT_PHASES[ev.ph]);
    if (ev.id !== '') this.stringAnnotation(seq, OBJECT_ID, safeParse(ev.id));
    this.endEvent(seq, rec);
  }

  /** Flow v2 (`bind_id` + `flow_in`/`flow_out` on a slice event): ids go on that event. */
  private flowV2(ev: TraceEvent): void {
    const extra = ev.extra!;
    const id = hash64(`v2\u0000${normalizeId(extra.bind_id!)}`);
    const fin = extra.flow_in === 'true';
    const fout = extra.flow_out === 'true';
    if (!fin && !fout) return;
    this.w.fieldFixed64(fin && !fout ? F.terminatingFlowIds : F.flowIds, id);
  }

  private metadata(ev: TraceEvent, th: ThreadStack): void {
    const name = this.parseArgs(ev.args, ev.name)?.name;
    if (ev.name === 'process_name' && typeof name === 'string') {
      this.procNames.set(ev.pid, name);
      const t = this.tracks.get(processKey(ev.pid));
      if (t && t.emitted && t.emittedName !== name) {
        t.name = name;
        this.emitDescriptor(this.seqFor(th), t);
      }
    } else if (ev.name === 'thread_name' && typeof name === 'string') {
      const key = threadKey(ev.pid, ev.tid);
      this.threadNames.set(key, name);
      const t = this.tracks.get('t' + key);
      if (t && t.emitted && t.emittedName !== name) {
        t.name = name;
        this.emitDescriptor(this.seqFor(th), t);
      }
    } else {
      this.diagnostics.add(
        'perfetto_unsupported_metadata',
        'info',
        `metadata "${ev.name}" has no Perfetto equivalent; not written`,
      );
    }
  }

  /** After the last event: publish names that arrived late or belong to threads without events. */
  finish(nester: SliceNester): void {
    // Async slices still open: closed at the last timestamp of the trace and flagged.
    for (const t of this.tracks.values()) {
      if (!t.open || t.open.length === 0 || !t.seq) continue;
      this.diagnostics.add(
        'unclosed_async_slice',
        'error',
        `async slice "${t.open[t.open.length - 1]}" has no end; closed at the end of the trace`,
      );
      while (t.open.length > 0) {
        t.open.pop();
        const rec = this.beginEvent(t.seq, this.maxTs, t, TYPE_SLICE_END);
        this.stringAnnotation(t.seq, VIZ_END_REASON, 'unclosed');
        this.endEvent(t.seq, rec);
      }
    }
    for (const [pid, name] of this.meta.processNames)
      if (!this.procNames.has(pid)) this.procNames.set(pid, name);
    for (const [key, name] of this.meta.threadNames)
      if (!this.threadNames.has(key)) this.threadNames.set(key, name);
    for (const [pid, name] of this.procNames) {
      const t = this.tracks.get(processKey(pid));
      if (t?.emitted && t.emittedName === name) continue;
      const seq = this.seqFor(nester.thread(pid, pid));
      const track = this.processTrack(pid, seq);
      if (track.emittedName !== name) {
        track.name = name;
        this.emitDescriptor(seq, track);
      }
    }
    for (const th of nester.allThreads()) {
      const name = this.threadNames.get(threadKey(th.pid, th.tid));
      if (name === undefined) continue;
      const seq = this.seqFor(th);
      const track = this.threadTrack(th, seq);
      if (track.emittedName !== name) {
        track.name = name;
        this.emitDescriptor(seq, track);
      }
    }
  }

  // ---------------------------------------------------------------- packets

  private seqFor(th: ThreadStack): Sequence {
    let s = this.seqs.get(th);
    if (!s) this.seqs.set(th, (s = new Sequence(this.nextSeq++)));
    return s;
  }

  /** Opens a TracePacket record with a TrackEvent; returns the record mark. */
  private beginEvent(seq: Sequence, ts: number, track: Track, type: number): number {
    if (seq.size >= this.maxInterned) seq.clear();
    const w = this.w;
    const rec = w.begin(F.packet);
    w.tag(F.timestamp, WT.varint);
    this.timestamp(ts);
    w.raw(seq.idField);
    this.teMark = w.begin(F.trackEvent);
    w.fieldVarint(F.type, type);
    this.usedIids = false;
    this.setDefaults = false;
    if (track === seq.thread) {
      // Thread-track events rely on the sequence's TrackEventDefaults (set once per incremental
      // state; the packet that sets them also names the track explicitly).
      if (seq.defaultsSet) this.usedIids = true;
      else {
        w.raw(track.field);
        this.setDefaults = true;
      }
    } else w.raw(track.field);
    return rec;
  }

  private teMark = 0;
  private setDefaults = false;

  private endEvent(seq: Sequence, rec: number): void {
    const w = this.w;
    w.end(this.teMark);
    if (this.setDefaults) {
      const d = w.begin(F.tracePacketDefaults);
      const te = w.begin(F.trackEventDefaults);
      w.raw(seq.thread!.field);
      w.end(te);
      w.end(d);
      seq.defaultsSet = true;
      this.usedIids = true;
    }
    if (this.newNames.length + this.newCats.length + this.newAnns.length + this.newLocs.length > 0)
      this.internedData();
    let flags = this.usedIids ? SEQ_NEEDS_INCREMENTAL_STATE : 0;
    if (!seq.started || seq.clearPending) flags |= SEQ_INCREMENTAL_STATE_CLEARED;
    seq.started = true;
    seq.clearPending = false;
    if (flags !== 0) w.fieldVarint(F.sequenceFlags, flags);
    w.end(rec);
  }

  private internedData(): void {
    const w = this.w;
    const m = w.begin(F.internedData);
    const simple = (field: number, list: (number | string)[]): void => {
      for (let i = 0; i < list.length; i += 2) {
        const e = w.begin(field);
        w.fieldVarint(F.iid, list[i] as number);
        w.fieldString(F.entryName, list[i + 1] as string);
        w.end(e);
      }
    };
    simple(F.idEventCategories, this.newCats);
    simple(F.idEventNames, this.newNames);
    simple(F.idDebugAnnotationNames, this.newAnns);
    const locs = this.newLocs;
    for (let i = 0; i < locs.length; i += 4) {
      const e = w.begin(F.idSourceLocations);
      w.fieldVarint(F.iid, locs[i] as number);
      w.fieldString(F.slFileName, locs[i + 1] as string);
      w.fieldString(F.slFunctionName, locs[i + 2] as string);
      w.fieldVarint(F.slLineNumber, locs[i + 3] as number);
      w.end(e);
    }
    w.end(m);
    this.newNames = [];
    this.newCats = [];
    this.newAnns = [];
    this.newLocs = [];
  }

  /** Latest timestamp written (relative ns). */
  private maxTs = Number.NEGATIVE_INFINITY;

  /** Absolute ns (baseUs * 1000 + ts) as a uint64 varint, exact beyond 2^53. */
  private timestamp(ts: number): void {
    const lo = this.usualTimestamp(ts);
    if (lo >= 0) {
      const w = this.w;
      w.ensure(14);
      w.pos = this.writeUsualTimestamp(w.buf, w.pos, lo);
      return;
    }
    const hi = this.baseHi + Math.floor((this.baseLo + ts) / TWO32);
    if (hi < 0) {
      this.diagnostics.add(
        'negative_timestamp',
        'error',
        `an event lies before time 0 (${ts} ns relative to the base); written at 0`,
      );
      this.w.varint(0);
    } else this.w.varint((this.baseLo + ts) >>> 0); // below 2^28 ns: a short varint
  }

  /**
   * The low 32 bits of the absolute ns (baseUs * 1000 + ts, split in two 32-bit halves so values
   * beyond 2^53 stay exact) when its varint has the usual form, -1 for the rare cases `timestamp`
   * handles (before time 0, or below 2^28 ns). Bits 28 and up change every 268 ms: their varint
   * bytes are cached in `tsTail`, made current here.
   */
  private usualTimestamp(ts: number): number {
    if (ts > this.maxTs) this.maxTs = ts;
    if (!this.baseKnown) {
      const base = BigInt(Math.trunc(this.meta.baseUs)) * 1000n;
      this.baseHi = Number(base >> 32n);
      this.baseLo = Number(base & 0xffffffffn);
      this.baseKnown = true;
    }
    const sum = this.baseLo + ts;
    const carry = Math.floor(sum / TWO32);
    const hi = this.baseHi + carry;
    const lo = (sum - carry * TWO32) >>> 0;
    const upper = hi * 16 + (lo >>> 28);
    if (hi < 0 || upper === 0) return -1;
    if (upper !== this.tsUpper) this.setUpper(upper);
    return lo;
  }

  /** The varint of a usual timestamp at `b[p]`: the low 28 bits as four 7-bit groups, then the cached upper bytes. */
  private writeUsualTimestamp(b: Uint8Array, p: number, lo: number): number {
    b[p] = (lo & 0x7f) | 0x80;
    b[p + 1] = ((lo >>> 7) & 0x7f) | 0x80;
    b[p + 2] = ((lo >>> 14) & 0x7f) | 0x80;
    b[p + 3] = ((lo >>> 21) & 0x7f) | 0x80;
    p += 4;
    const upper = this.tsTail;
    for (let i = 0; i < upper.length; i++) b[p++] = upper[i]!;
    return p;
  }

  private tsUpper = -1;
  private tsTail: Uint8Array = new Uint8Array(0);

  /** Caches the varint bytes of a timestamp's bits 28 and up. */
  private setUpper(upper: number): void {
    this.tsUpper = upper;
    const t = new ProtoWriter(16);
    t.varint(upper);
    this.tsTail = t.bytes();
  }

  private nameAndCat(seq: Sequence, name: string, cat: string): void {
    const w = this.w;
    this.usedIids = true;
    if (cat !== '') {
      let c = seq.cats.get(cat);
      if (c === undefined) {
        c = seq.nextCat++;
        seq.cats.set(cat, c);
        seq.size++;
        this.newCats.push(c, cat);
      }
      w.fieldVarint(F.categoryIids, c);
    }
    let e = seq.names.get(name);
    if (e === undefined) {
      e = { iid: seq.nextName++, loc: 0 };
      seq.names.set(name, e);
      seq.size++;
      this.newNames.push(e.iid, name);
      const m = SOURCE_LOCATION.exec(name);
      if (m) {
        const key = `${m[2]}\u0000${m[1]}\u0000${m[3]}`;
        let loc = seq.locs.get(key);
        if (loc === undefined) {
          loc = seq.nextLoc++;
          seq.locs.set(key, loc);
          seq.size++;
          this.newLocs.push(loc, m[2]!, m[1]!, Number(m[3]) >>> 0);
        }
        e.loc = loc;
      }
    }
    w.fieldVarint(F.nameIid, e.iid);
    if (e.loc !== 0) w.fieldVarint(F.sourceLocationIid, e.loc);
  }

  private annIid(seq: Sequence, key: string): number {
    this.usedIids = true;
    let a = seq.annNames.get(key);
    if (a === undefined) {
      a = seq.nextAnn++;
      seq.annNames.set(key, a);
      seq.size++;
      this.newAnns.push(a, key);
    }
    return a;
  }

  private stringAnnotation(seq: Sequence, key: string, value: unknown): void {
    const m = this.w.begin(F.debugAnnotations);
    this.w.fieldVarint(F.daNameIid, this.annIid(seq, key));
    encodeValue(this.w, value);
    this.w.end(m);
  }

  /** An event's args parsed (a non-object as `{value}`); undefined, counted, when unparsable. */
  private parseArgs(args: string, eventName: string): Record<string, unknown> | undefined {
    if (args === '') return undefined;
    try {
      const v: unknown = JSON.parse(args);
      return v !== null && typeof v === 'object' && !Array.isArray(v)
        ? (v as Record<string, unknown>)
        : { value: v };
    } catch {
      this.diagnostics.add('bad_args', 'error', `event "${eventName}" has unparsable args; dropped`);
      return undefined;
    }
  }

  /**
   * `args` as debug annotations: top-level names interned, nested names inline. The JSON text is
   * transcoded directly; texts the transcoder does not take (not an object, unusual syntax) go
   * through JSON.parse.
   */
  private annotations(seq: Sequence, args: string, eventName: string): void {
    const w = this.w;
    const cacheable = args.length <= MAX_CACHED_ARGS && this.argsCache.use();
    if (cacheable) {
      const bytes = seq.encodedArgs.get(args);
      if (bytes !== undefined) {
        this.argsCache.hits++;
        w.raw(bytes);
        if (bytes.length > 0) this.usedIids = true; // they name annotations by iid
        return;
      }
    }
    const mark = w.pos;
    try {
      transcodeArgs(w, args, (key) => this.annIid(seq, key));
      if (cacheable) {
        // Their names are interned on this sequence now: the same bytes serve until it is cleared.
        if (seq.encodedArgs.size >= MAX_CACHED_ARGS_ENTRIES) seq.encodedArgs.clear();
        seq.encodedArgs.set(args, Uint8Array.prototype.slice.call(w.buf, mark, w.pos));
      }
      return;
    } catch (err) {
      if (!(err instanceof NotSimple) && !(err instanceof SyntaxError)) throw err;
      w.pos = mark;
    }
    const parsed = this.parseArgs(args, eventName);
    if (!parsed) return;
    for (const key in parsed) {
      const m = w.begin(F.debugAnnotations);
      w.fieldVarint(F.daNameIid, this.annIid(seq, key));
      encodeValue(w, parsed[key]);
      w.end(m);
    }
  }

  private missingTs(ev: TraceEvent): void {
    this.diagnostics.add(
      'missing_timestamp',
      'error',
      `"${ev.ph}" event "${ev.name}" has no timestamp; not written`,
    );
  }

  // ---------------------------------------------------------------- tracks

  private pidNum(pid: Ident): number {
    if (typeof pid === 'number' && Number.isInteger(pid) && pid >= INT32_MIN && pid <= INT32_MAX) return pid;
    return this.synthetic(`p\u0000${typeof pid}\u0000${pid}`);
  }

  private tidNum(pid: Ident, tid: Ident): number {
    if (typeof tid === 'number' && Number.isSafeInteger(tid)) return tid;
    return this.synthetic(`t\u0000${typeof pid}\u0000${pid}\u0000${typeof tid}\u0000${tid}`);
  }

  private synthetic(key: string): number {
    let v = this.syntheticIds.get(key);
    if (v === undefined) {
      v = this.nextSynthetic++;
      this.syntheticIds.set(key, v);
      this.diagnostics.add(
        'synthetic_id',
        'info',
        `pids/tids that are strings or out of range get synthetic numbers from ${0x7f000000} (the original is kept as the name when no name is given)`,
      );
    }
    return v;
  }

  private makeTrack(
    key: string,
    kind: TrackKind,
    parent: Track | undefined,
    pid: number,
    tid: number,
    name: string | undefined,
  ): Track {
    const uuid = hash64(key);
    const t: Track = {
      uuid,
      field: encodeVarintField(F.trackUuid, uuid),
      kind,
      parent,
      pid,
      tid,
      name,
      emitted: false,
      emittedName: undefined,
    };
    this.tracks.set(key, t);
    return t;
  }

  private processTrack(pid: Ident, seq: Sequence): Track {
    const key = processKey(pid);
    let t = this.tracks.get(key);
    if (!t) {
      const name =
        this.procNames.get(pid) ??
        this.meta.processNames.get(pid) ??
        (typeof pid === 'string' ? pid : undefined);
      t = this.makeTrack(key, 'process', undefined, this.pidNum(pid), 0, name);
    }
    if (!t.emitted) this.emitDescriptor(seq, t);
    return t;
  }

  private threadTrack(th: ThreadStack, seq: Sequence): Track {
    // Callers pass seqFor(th), the thread's own sequence, whose default track is this thread's track.
    const own = seq.thread;
    if (own !== undefined && own.emitted) return own;
    const tkey = threadKey(th.pid, th.tid);
    const key = 't' + tkey;
    let t = this.tracks.get(key);
    if (t?.emitted) return t;
    const proc = this.processTrack(th.pid, seq);
    if (!t) {
      const name =
        this.threadNames.get(tkey) ??
        this.meta.threadNames.get(tkey) ??
        (typeof th.tid === 'string' ? th.tid : undefined);
      t = this.makeTrack(key, 'thread', proc, proc.pid, this.tidNum(th.pid, th.tid), name);
    }
    seq.thread ??= t;
    this.emitDescriptor(seq, t);
    return t;
  }

  private globalTrack(seq: Sequence): Track {
    let t = this.tracks.get('global');
    if (!t) t = this.makeTrack('global', 'global', undefined, 0, 0, 'Global instants');
    if (!t.emitted) this.emitDescriptor(seq, t);
    return t;
  }

  private counterTrack(ev: TraceEvent, series: string, seq: Sequence): Track {
    const key = `c\u0000${typeof ev.pid}\u0000${ev.pid}\u0000${ev.name}\u0000${ev.id}\u0000${series}`;
    let t = this.tracks.get(key);
    if (t?.emitted) return t;
    const proc = this.processTrack(ev.pid, seq);
    if (!t) {
      const share = ev.id === '' ? ev.name : `${ev.name} [id: ${normalizeId(ev.id)}]`;
      t = this.makeTrack(key, 'counter', proc, proc.pid, 0, `${share}.${series}`);
      t.shareKey = share;
    }
    this.emitDescriptor(seq, t);
    return t;
  }

  private asyncTrack(ev: TraceEvent, seq: Sequence): Track {
    const legacy = ev.ph === 'S' || ev.ph === 'T' || ev.ph === 'p' || ev.ph === 'F';
    const id = ev.id !== '' ? ev.id : (ev.extra?.id2 ?? '');
    const key = `a\u0000${legacy ? 'legacy' : ''}\u0000${typeof ev.pid}\u0000${ev.pid}\u0000${ev.cat}\u0000${ev.extra?.scope ?? ''}\u0000${id}`;
    let t = this.tracks.get(key);
    if (t?.emitted) return t;
    const proc = this.processTrack(ev.pid, seq);
    if (!t) {
      t = this.makeTrack(key, 'async', proc, proc.pid, 0, ev.name);
      t.open = [];
    }
    this.emitDescriptor(seq, t);
    return t;
  }

  private emitDescriptor(seq: Sequence, t: Track): void {
    const w = this.w;
    const rec = w.begin(F.packet);
    w.raw(seq.idField);
    if (!seq.started) {
      w.fieldVarint(F.sequenceFlags, SEQ_INCREMENTAL_STATE_CLEARED);
      seq.started = true;
      seq.clearPending = false;
    }
    const td = w.begin(F.trackDescriptor);
    w.tag(F.tdUuid, WT.varint);
    w.varintBig(t.uuid);
    switch (t.kind) {
      case 'process': {
        const p = w.begin(F.tdProcess);
        w.fieldInt64(F.pdPid, t.pid);
        if (t.name !== undefined) w.fieldString(F.pdProcessName, t.name);
        w.end(p);
        break;
      }
      case 'thread': {
        const p = w.begin(F.tdThread);
        w.fieldInt64(F.tdtPid, t.pid);
        w.fieldInt64(F.tdtTid, t.tid);
        if (t.name !== undefined) w.fieldString(F.tdtThreadName, t.name);
        w.end(p);
        break;
      }
      case 'counter': {
        w.tag(F.tdParentUuid, WT.varint);
        w.varintBig(t.parent!.uuid);
        w.fieldString(F.tdName, t.name ?? '');
        const c = w.begin(F.tdCounter);
        w.fieldString(F.cdYAxisShareKey, t.shareKey ?? '');
        w.end(c);
        break;
      }
      case 'async':
        w.tag(F.tdParentUuid, WT.varint);
        w.varintBig(t.parent!.uuid);
        w.fieldString(F.tdName, t.name ?? '');
        break;
      case 'global':
        w.fieldString(F.tdName, t.name ?? '');
        break;
    }
    w.end(td);
    w.end(rec);
    t.emitted = true;
    t.emittedName = t.name;
  }
}

/** The track event of a slice-begin packet of the interned name `e` on the default track. */
function beginTrackEvent(e: NameEntry): Uint8Array {
  const t = new ProtoWriter(32);
  const m = t.begin(F.trackEvent);
  t.fieldVarint(F.type, TYPE_SLICE_BEGIN);
  t.fieldVarint(F.nameIid, e.iid);
  if (e.loc !== 0) t.fieldVarint(F.sourceLocationIid, e.loc);
  t.end(m);
  return t.bytes();
}

/** What follows the timestamp in a steady packet of `seq`: its id, `trackEvent`, the flags. */
function packetTail(seq: Sequence, trackEvent: Uint8Array): Uint8Array {
  const t = new ProtoWriter(48);
  t.raw(seq.idField);
  t.raw(trackEvent);
  t.fieldVarint(F.sequenceFlags, SEQ_NEEDS_INCREMENTAL_STATE);
  return t.bytes();
}

function processKey(pid: Ident): string {
  return `p${typeof pid}:${pid}`;
}

function safeParse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** An id's raw JSON text as a plain string (`"0x1f"` -> `0x1f`, `31` -> `31`). */
function normalizeId(raw: string): string {
  const v = safeParse(raw);
  return typeof v === 'string' ? v : raw;
}

export async function writePerfetto(
  source: TraceSource,
  out: Output,
  options: PerfettoWriteOptions = {},
): Promise<{ events: number }> {
  const diagnostics = source.diagnostics;
  const enc = new PerfettoEncoder(source.meta, diagnostics, options);
  const nester = new SliceNester(enc, diagnostics);
  const compress = options.compress ?? process.env.VIZ_PERFETTO_COMPRESS !== '0';
  const flushBytes = options.flushBytes ?? (compress ? 256 << 10 : 1 << 20);
  const sink = compress
    ? new CompressingSink(
        out,
        options.level ?? 1,
        options.native !== false ? loadNative()?.deflate : undefined,
      )
    : undefined;
  const flush = async (): Promise<void> => {
    const chunk = enc.w.take();
    if (sink) await sink.push(chunk);
    else await out.write(chunk);
  };
  let events = 0;
  // Calls that come as columns are encoded as they arrive; the other events go through ordering.
  const batches = hasCallRuns(source)
    ? eventsBeside(source.batchesOrRuns(), async (run) => {
        enc.callRun(run, nester.thread(run.pid, run.tid));
        events += run.count;
        if (enc.w.pos >= flushBytes) await flush();
      })
    : source.batches();
  for await (const batch of timeOrdered(batches, {
    diagnostics,
    window: options.window,
    perThread: true,
    ...options.ordering,
  })) {
    nester.push(batch);
    events += batch.length;
    if (enc.w.pos >= flushBytes) await flush();
  }
  nester.finish();
  enc.finish(nester);
  if (enc.w.pos > 0) await flush();
  await sink?.finish();
  return { events };
}

/** The event batches of `items`; each `CallRun` among them goes to `onRun` instead. */
async function* eventsBeside(
  items: AsyncIterable<EventBatch | CallRun>,
  onRun: (run: CallRun) => Promise<void>,
): AsyncGenerator<EventBatch, void, undefined> {
  for await (const item of items) {
    if (isCallRun(item)) await onRun(item);
    else yield item;
  }
}

/**
 * Most bytes of records one `compressed_packets` holds: Perfetto's own writers keep each such
 * packet under 512 KB; here the inflated size stays under it too.
 */
const MAX_INFLATED = 448 << 10;

/**
 * `chunk` (whole `Trace.packet` records, as the encoder writes them) cut at record boundaries
 * into pieces of at most `max` bytes; a single record longer than that is a piece of its own.
 */
export function* recordPieces(chunk: Buffer, max: number): Generator<Buffer> {
  if (chunk.length <= max) {
    yield chunk;
    return;
  }
  let start = 0;
  let p = 0;
  while (p < chunk.length) {
    // A record: the tag byte of field 1 (length-delimited), the varint length, the packet.
    const [length, body] = readVarint(chunk, p + 1)!;
    const next = body + length;
    if (next - start > max && p > start) {
      yield chunk.subarray(start, p);
      start = p;
    }
    if (next - start > max) {
      yield chunk.subarray(start, next);
      start = next;
    }
    p = next;
  }
  if (start < chunk.length) yield chunk.subarray(start);
}

/**
 * Deflates chunks of whole records into `compressed_packets` containers on libuv's thread pool
 * (so compression overlaps with parsing on a second core), writing them in order.
 */
class CompressingSink {
  /** Deflated pieces in order; a bare `Buffer` is a record written uncompressed. */
  private readonly inFlight: Promise<Buffer | { readonly deflated: Buffer }>[] = [];
  private readonly deflate: (piece: Buffer) => Promise<Buffer>;
  constructor(
    private readonly out: Output,
    level: number,
    /** The addon's deflate (same bytes, without node:zlib's per-call stream objects), if loaded. */
    nativeDeflate?: NativeAddon['deflate'],
  ) {
    this.deflate = nativeDeflate
      ? (piece) => nativeDeflate(piece, level)
      : (piece) => deflateAsync(piece, { level, chunkSize: 1 << 19 });
  }

  async push(chunk: Buffer): Promise<void> {
    for (const piece of recordPieces(chunk, MAX_INFLATED)) {
      const done =
        piece.length > MAX_INFLATED
          ? Promise.resolve(piece) // one record too big to wrap: written as it is
          : this.deflate(piece).then((deflated) => ({ deflated }) as const);
      this.inFlight.push(done);
      while (this.inFlight.length > 2) await this.writeOne();
    }
  }

  async finish(): Promise<void> {
    while (this.inFlight.length > 0) await this.writeOne();
  }

  private async writeOne(): Promise<void> {
    const next = await this.inFlight.shift()!;
    if (Buffer.isBuffer(next)) {
      await this.out.write(next);
      return;
    }
    const { deflated } = next;
    const field = new ProtoWriter(16);
    field.tag(F.compressedPackets, WT.len);
    field.varint(deflated.length);
    const w = new ProtoWriter(32);
    w.tag(F.packet, WT.len);
    w.varint(field.pos + deflated.length);
    w.raw(field.buf.subarray(0, field.pos));
    // Header (tag + lengths) then the deflated bytes, without copying them.
    await this.out.write(w.buf.subarray(0, w.pos));
    await this.out.write(deflated);
  }
}
