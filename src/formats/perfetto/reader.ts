/**
 * Perfetto protobuf reader: TrackEvent traces (written by viz or by the Perfetto SDK) into the
 * shared event model, streaming record by record.
 *
 * Framing is parsed by hand (tag 0x0A + varint length), each packet is decoded with protobufjs
 * against schemas/perfetto. Per sequence it keeps the incremental state (interned names,
 * categories, annotation names, source locations, TrackEventDefaults) and honours
 * SEQ_INCREMENTAL_STATE_CLEARED / SEQ_NEEDS_INCREMENTAL_STATE / previous_packet_dropped as
 * trace_processor does. Mapping:
 * - SLICE_BEGIN/END on a thread track -> `B`/`E` on that pid/tid (slices come back as B/E pairs,
 *   an `E` named after the slice it closes);
 *   on any other track -> nestable async `b`/`e` with `id` = the track uuid in hex, under the
 *   track's process (pid 0 when it has none);
 * - INSTANT -> `i` (`s` = `t` on a thread track, `p` on a process track, `g` elsewhere);
 *   instants carrying viz's `viz.flow_phase` annotation -> the original `s`/`t`/`f` flow event;
 *   instants in category `object` with a `phase` annotation (`new`/`snapshot`/`delete`) -> the
 *   object event `N`/`O`/`D` (`id` from the `id` annotation, the other annotations as `args`);
 * - COUNTER -> `C` named after the counter track (`name.series` split back via y_axis_share_key);
 * - debug annotations -> `args` JSON; flow ids -> flow v2 `bind_id`/`flow_in`/`flow_out`;
 * - process/thread names from descriptors -> `M` events and `meta.processNames/threadNames`.
 * Events come out in file order (consumers that need time order use `timeOrdered`).
 */
import { inflateSync } from 'node:zlib';
import type { Input } from '../../io/input.js';
import { ChunkPuller } from '../../io/input.js';
import { readVarint } from './encoder.js';
import { Diagnostics } from '../../model/diagnostics.js';
import { inputError } from '../../model/errors.js';
import { makeEvent, threadKey, type EventBatch, type TraceEvent } from '../../model/event.js';
import { emptyMeta, type TraceMeta, type TraceSource } from '../../model/source.js';
import {
  SEQ_INCREMENTAL_STATE_CLEARED,
  SEQ_NEEDS_INCREMENTAL_STATE,
  toBigInt,
  toNumber,
  perfettoSchema,
  TYPE_COUNTER,
  TYPE_INSTANT,
  TYPE_SLICE_BEGIN,
  TYPE_SLICE_END,
} from './schema.js';
import {
  OBJECT_CATEGORY,
  OBJECT_ID,
  OBJECT_PHASE,
  OBJECT_PHASES,
  VIZ_FLOW_BP,
  VIZ_FLOW_ID,
  VIZ_FLOW_PHASE,
} from './writer.js';

export const FORMAT_NAME = 'perfetto';

/** TracePacket field numbers with their wire types, for sniffing. */
const PACKET_FIELDS = new Map<number, number>([
  [1, 2],
  [2, 2],
  [3, 0],
  [6, 2],
  [8, 0],
  [10, 0],
  [11, 2],
  [12, 2],
  [13, 0],
  [33, 2],
  [36, 2],
  [41, 0],
  [42, 0],
  [43, 2],
  [44, 2],
  [50, 2],
  [58, 0],
  [59, 2],
  [60, 2],
  [79, 0],
  [87, 0],
  [98, 0],
  [900, 2],
]);

/** First byte 0x0A (Trace.packet), a plausible length, then a known TracePacket field. */
export function sniffPerfetto(head: Buffer): boolean {
  if (head.length < 3 || head[0] !== 0x0a) return false;
  const len = readVarint(head, 1);
  if (!len || !(len[0] > 0 && len[0] < 1 << 28)) return false;
  // Every field of the first packet (as far as the head reaches) must be a known TracePacket
  // field with its wire type: a text file or another protobuf message fails within a few bytes.
  const end = Math.min(head.length, len[1] + len[0]);
  let p = len[1];
  let fields = 0;
  while (p < end) {
    const tag = readVarint(head, p, end);
    if (!tag) return fields > 0;
    const wt = tag[0] % 8;
    if (PACKET_FIELDS.get(Math.floor(tag[0] / 8)) !== wt) return false;
    p = tag[1];
    if (wt === 0) {
      const v = readVarint(head, p, end);
      if (!v) return true;
      p = v[1];
    } else {
      const l = readVarint(head, p, end);
      if (!l) return true;
      p = l[1] + l[0];
      if (p > len[1] + len[0]) return false;
    }
    fields++;
  }
  return fields > 0 && (p === len[1] + len[0] || p >= head.length);
}

interface TrackInfo {
  uuid: string;
  parent: string | undefined;
  name: string | undefined;
  kind: 'process' | 'thread' | 'counter' | 'other';
  pid: number | undefined;
  tid: number | undefined;
  shareKey: string | undefined;
  /** Names of open slices (to name `E`/`e` events and match them). */
  open: string[];
}

interface SeqState {
  valid: boolean;
  names: Map<number, string>;
  cats: Map<number, string>;
  anns: Map<number, string>;
  locs: Map<number, string>;
  defaultTrack: string | undefined;
  /** TracePacketDefaults.timestamp_clock_id. */
  defaultClock: number | undefined;
  /** Sequence-scoped clocks (64..127) from this sequence's ClockSnapshots. */
  clocks: Map<number, Clock>;
  /** Legacy ThreadDescriptor packet on this sequence: events without a track go to this thread. */
  thread: { pid: number; tid: number } | undefined;
}

/** A clock related to the trace clock by a ClockSnapshot. */
interface Clock {
  /** The clock's value in the snapshot (its own units). */
  snapshot: bigint;
  /** The trace clock's value (ns) in the same snapshot. */
  ref: bigint;
  mult: bigint;
  incremental: boolean;
  /** Incremental clocks: the latest absolute value. */
  last: bigint;
}

/** BOOTTIME: the default trace clock of proto traces. */
const TRACE_CLOCK = 6;

type Dict = Record<string, unknown>;
// Decoded messages are protobufjs objects with snake_case keys; read them loosely.
type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export class PerfettoReader implements TraceSource {
  readonly meta: TraceMeta = emptyMeta(FORMAT_NAME);
  readonly diagnostics = new Diagnostics();
  private readonly packetType = perfettoSchema().packet;
  private readonly seqs = new Map<number, SeqState>();
  private readonly tracks = new Map<string, TrackInfo>();
  private readonly flowsSeen = new Set<string>();
  private baseNs: bigint | undefined;
  private batch: TraceEvent[] = [];
  private packets = 0;

  constructor(
    private readonly input: Input,
    private readonly batchSize = 4096,
  ) {}

  get bytesRead(): number {
    return this.input.bytesRead();
  }

  async *batches(): AsyncGenerator<EventBatch, void, undefined> {
    let buf: Buffer = Buffer.alloc(0);
    let base = 0; // absolute offset of buf[0]
    const puller = new ChunkPuller(this.input);
    for (;;) {
      const chunk = await puller.next();
      if (chunk === undefined) break;
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      let p = 0;
      for (;;) {
        if (p >= buf.length) break;
        if (buf[p] !== 0x0a) {
          throw inputError(
            this.input.name,
            base + p,
            `not a Perfetto trace record: expected tag 0x0a (Trace.packet), found 0x${buf[p]!.toString(16).padStart(2, '0')}`,
          );
        }
        const len = readVarint(buf, p + 1);
        if (!len) break;
        if (!Number.isFinite(len[0]) || len[0] > 1 << 30) {
          throw inputError(
            this.input.name,
            base + p,
            'not a Perfetto trace record: implausible packet length',
          );
        }
        const end = len[1] + len[0];
        if (end > buf.length) break;
        let pkt: Msg;
        try {
          pkt = this.packetType.toObject(this.packetType.decode(buf.subarray(len[1], end)), {
            longs: String,
            enums: Number,
          }) as Msg;
        } catch (err) {
          throw inputError(this.input.name, base + p, `corrupt TracePacket: ${(err as Error).message}`);
        }
        if (pkt.compressed_packets) this.compressed(pkt.compressed_packets as Uint8Array, base + p);
        else this.packet(pkt, base + p);
        p = end;
        if (this.batch.length >= this.batchSize) {
          yield this.batch;
          this.batch = [];
        }
      }
      base += p;
      buf = p >= buf.length ? Buffer.alloc(0) : buf.subarray(p);
    }
    const truncatedGzip = puller.truncatedGzip;
    if (buf.length > 0 || truncatedGzip) {
      this.diagnostics.add(
        'truncated_input',
        'data_loss',
        `${this.input.name}: truncated: ${truncatedGzip ? 'the gzip stream ends early' : `the last packet at byte ${base} is incomplete`}; kept ${this.packets} complete packets`,
      );
    }
    if (this.baseNs === undefined) this.meta.baseUs = 0;
    if (this.batch.length > 0) yield this.batch;
    this.batch = [];
  }

  /** A `compressed_packets` container: zlib-deflated Trace records, read as if inline. */
  private compressed(bytes: Uint8Array, offset: number): void {
    let inner: Buffer;
    try {
      inner = inflateSync(bytes);
    } catch (err) {
      throw inputError(this.input.name, offset, `corrupt compressed_packets: ${(err as Error).message}`);
    }
    let p = 0;
    while (p < inner.length) {
      const len = inner[p] === 0x0a ? readVarint(inner, p + 1) : undefined;
      if (!len || len[1] + len[0] > inner.length) {
        throw inputError(
          this.input.name,
          offset,
          `corrupt compressed_packets: bad record at inner byte ${p}`,
        );
      }
      const end = len[1] + len[0];
      let pkt: Msg;
      try {
        pkt = this.packetType.toObject(this.packetType.decode(inner.subarray(len[1], end)), {
          longs: String,
          enums: Number,
        }) as Msg;
      } catch (err) {
        throw inputError(
          this.input.name,
          offset,
          `corrupt TracePacket inside compressed_packets: ${(err as Error).message}`,
        );
      }
      this.packet(pkt, offset);
      p = end;
    }
  }

  private seq(id: number): SeqState {
    let s = this.seqs.get(id);
    if (!s) {
      s = {
        valid: false,
        names: new Map(),
        cats: new Map(),
        anns: new Map(),
        locs: new Map(),
        defaultTrack: undefined,
        defaultClock: undefined,
        clocks: new Map(),
        thread: undefined,
      };
      this.seqs.set(id, s);
    }
    return s;
  }

  private packet(pkt: Msg, offset: number): void {
    this.packets++;
    const seqId: number = pkt.trusted_packet_sequence_id ?? 0;
    const s = this.seq(seqId);
    let flags: number = pkt.sequence_flags ?? 0;
    if (pkt.incremental_state_cleared) flags |= SEQ_INCREMENTAL_STATE_CLEARED;
    if (flags & SEQ_INCREMENTAL_STATE_CLEARED) {
      s.valid = true;
      s.names.clear();
      s.cats.clear();
      s.anns.clear();
      s.locs.clear();
      s.defaultTrack = undefined;
      s.defaultClock = undefined;
    }
    if (pkt.previous_packet_dropped) {
      s.valid = false;
      this.diagnostics.add(
        'previous_packet_dropped',
        'data_loss',
        `${this.input.name}: byte ${offset}: the producer lost packets on sequence ${seqId}`,
      );
    }
    if (flags & SEQ_NEEDS_INCREMENTAL_STATE && !s.valid) {
      this.diagnostics.add(
        'packet_skipped_incremental_state_invalid',
        'data_loss',
        `${this.input.name}: byte ${offset}: packet needs incremental state that sequence ${seqId} never set up; skipped`,
      );
      return;
    }
    const interned = pkt.interned_data as Msg | undefined;
    if (interned) {
      for (const e of interned.event_names ?? []) s.names.set(toNumber(e.iid), e.name ?? '');
      for (const e of interned.event_categories ?? []) s.cats.set(toNumber(e.iid), e.name ?? '');
      for (const e of interned.debug_annotation_names ?? []) s.anns.set(toNumber(e.iid), e.name ?? '');
      for (const e of interned.debug_annotation_string_values ?? [])
        s.locs.set(-toNumber(e.iid), Buffer.from(e.str ?? []).toString('utf8'));
    }
    if (pkt.trace_packet_defaults?.timestamp_clock_id)
      s.defaultClock = pkt.trace_packet_defaults.timestamp_clock_id;
    if (pkt.clock_snapshot) {
      this.clockSnapshot(pkt.clock_snapshot as Msg, s);
      return;
    }
    let abs: bigint | undefined;
    if (pkt.timestamp !== undefined && pkt.timestamp !== null) {
      abs = this.resolveTimestamp(pkt, s, offset);
      if (abs === undefined) return;
    }
    const defaults = pkt.trace_packet_defaults?.track_event_defaults;
    if (defaults?.track_uuid !== undefined && defaults.track_uuid !== null)
      s.defaultTrack = toBigInt(defaults.track_uuid).toString();
    if (pkt.track_descriptor) this.descriptor(pkt.track_descriptor as Msg);
    else if (pkt.thread_descriptor) {
      const td = pkt.thread_descriptor as Msg;
      s.thread = { pid: td.pid ?? 0, tid: toNumber(td.tid ?? 0) };
      if (td.thread_name) this.threadName(s.thread.pid, s.thread.tid, td.thread_name);
    } else if (pkt.process_descriptor) {
      const pd = pkt.process_descriptor as Msg;
      if (pd.process_name) this.processName(pd.pid ?? 0, pd.process_name);
    } else if (pkt.track_event) this.trackEvent(abs, pkt.track_event as Msg, s, offset);
  }

  /** Global clocks (builtin ids other than the trace clock) from ClockSnapshots. */
  private readonly clocks = new Map<number, Clock>();
  private traceClock = TRACE_CLOCK;

  private clockSnapshot(cs: Msg, s: SeqState): void {
    if (cs.primary_trace_clock) this.traceClock = cs.primary_trace_clock;
    const list = (cs.clocks ?? []) as Msg[];
    const refClock = list.find((c) => (c.clock_id ?? 0) === this.traceClock);
    if (!refClock) {
      this.diagnostics.add(
        'clock_snapshot_without_trace_clock',
        'error',
        `a ClockSnapshot does not include the trace clock (${this.traceClock}); ignored`,
      );
      return;
    }
    const ref = toBigInt(refClock.timestamp ?? 0);
    for (const c of list) {
      const id: number = c.clock_id ?? 0;
      if (id === this.traceClock) continue;
      const snapshot = toBigInt(c.timestamp ?? 0);
      const clock: Clock = {
        snapshot,
        ref,
        mult: toBigInt(c.unit_multiplier_ns ?? 1) || 1n,
        incremental: !!c.is_incremental,
        last: snapshot,
      };
      if (id >= 64 && id < 128) s.clocks.set(id, clock);
      else this.clocks.set(id, clock);
    }
  }

  /** The packet's timestamp in trace-clock ns (absolute), or undefined when its clock is unknown. */
  private resolveTimestamp(pkt: Msg, s: SeqState, offset: number): bigint | undefined {
    const raw = toBigInt(pkt.timestamp);
    const id: number = pkt.timestamp_clock_id ?? s.defaultClock ?? 0;
    if (id === 0 || id === this.traceClock) return raw;
    const clock = id >= 64 && id < 128 ? s.clocks.get(id) : this.clocks.get(id);
    if (!clock) {
      this.diagnostics.add(
        'clock_sync_failure',
        'data_loss',
        `${this.input.name}: byte ${offset}: timestamp in clock ${id} with no ClockSnapshot relating it to the trace clock; packet skipped`,
      );
      return undefined;
    }
    let v = raw;
    if (clock.incremental) {
      v = clock.last + raw;
      clock.last = v;
    }
    return clock.ref + (v - clock.snapshot) * clock.mult;
  }

  private descriptor(td: Msg): void {
    const uuid = toBigInt(td.uuid ?? 0).toString();
    const prev = this.tracks.get(uuid);
    const info: TrackInfo = {
      uuid,
      parent:
        td.parent_uuid !== undefined && td.parent_uuid !== null
          ? toBigInt(td.parent_uuid).toString()
          : undefined,
      name: td.name ?? td.static_name ?? td.atrace_name ?? undefined,
      kind: 'other',
      pid: undefined,
      tid: undefined,
      shareKey: td.counter?.y_axis_share_key ?? undefined,
      open: prev?.open ?? [],
    };
    if (td.thread) {
      info.kind = 'thread';
      info.pid = td.thread.pid ?? 0;
      info.tid = toNumber(td.thread.tid ?? 0);
      if (td.thread.thread_name) this.threadName(info.pid!, info.tid!, td.thread.thread_name);
    } else if (td.process) {
      info.kind = 'process';
      info.pid = td.process.pid ?? 0;
      if (td.process.process_name) this.processName(info.pid!, td.process.process_name);
    } else if (td.counter) {
      info.kind = 'counter';
    }
    this.tracks.set(uuid, info);
  }

  private threadName(pid: number, tid: number, name: string): void {
    const key = threadKey(pid, tid);
    if (this.meta.threadNames.get(key) === name) return;
    this.meta.threadNames.set(key, name);
    this.batch.push(makeEvent({ ph: 'M', name: 'thread_name', pid, tid, args: JSON.stringify({ name }) }));
  }

  private processName(pid: number, name: string): void {
    if (this.meta.processNames.get(pid) === name) return;
    this.meta.processNames.set(pid, name);
    this.batch.push(
      makeEvent({ ph: 'M', name: 'process_name', pid, tid: 0, args: JSON.stringify({ name }) }),
    );
  }

  /** The process a track belongs to (itself, or the nearest ancestor with a pid). */
  private pidOf(t: TrackInfo | undefined): number {
    for (let i = 0; t && i < 32; i++) {
      if (t.pid !== undefined) return t.pid;
      t = t.parent === undefined ? undefined : this.tracks.get(t.parent);
    }
    return 0;
  }

  private trackEvent(abs: bigint | undefined, te: Msg, s: SeqState, offset: number): void {
    if (abs === undefined) {
      this.diagnostics.add(
        'track_event_missing_timestamp',
        'error',
        `${this.input.name}: byte ${offset}: TrackEvent without a packet timestamp; skipped`,
      );
      return;
    }
    if (this.baseNs === undefined) {
      this.meta.baseUs = Number(abs / 1000n);
      this.baseNs = BigInt(this.meta.baseUs) * 1000n;
    }
    const ts = Number(abs - this.baseNs);
    const type: number = te.type ?? 0;
    if (type < TYPE_SLICE_BEGIN || type > TYPE_COUNTER) {
      this.diagnostics.add(
        'track_event_unsupported_type',
        'info',
        `${this.input.name}: byte ${offset}: TrackEvent of type ${type} (unset, legacy or state) skipped`,
      );
      return;
    }
    const uuidRaw = te.track_uuid ?? null;
    let uuid = uuidRaw !== null ? toBigInt(uuidRaw).toString() : s.defaultTrack;
    let track = uuid !== undefined ? this.tracks.get(uuid) : undefined;
    let pid = 0;
    let tid = 0;
    let kind: TrackInfo['kind'] | 'global' = 'global';
    if (track) {
      kind = track.kind;
      pid = this.pidOf(track);
      tid = track.tid ?? pid;
    } else if (uuid === undefined && s.thread) {
      kind = 'thread';
      pid = s.thread.pid;
      tid = s.thread.tid;
      uuid = `legacy:${pid}/${tid}`;
    } else if (uuid !== undefined && uuid !== '0') {
      this.diagnostics.add(
        'track_without_descriptor',
        'info',
        `${this.input.name}: byte ${offset}: track ${uuid} has no TrackDescriptor (yet); its events are read as global`,
      );
    }
    uuid ??= '0';
    if (!track) {
      track = {
        uuid,
        parent: undefined,
        name: undefined,
        kind: 'other',
        pid: undefined,
        tid: undefined,
        shareKey: undefined,
        open: [],
      };
      this.tracks.set(uuid, track);
    }

    let name: string = te.name ?? '';
    if (te.name_iid !== undefined && te.name_iid !== null) name = s.names.get(toNumber(te.name_iid)) ?? '';
    let cat = '';
    if (te.categories?.length) cat = (te.categories as string[]).join(',');
    else if (te.category_iids?.length)
      cat = (te.category_iids as unknown[])
        .map((i) => s.cats.get(toNumber(i)) ?? `unknown(${toNumber(i)})`)
        .join(',');
    const args = this.annotations(te.debug_annotations as Msg[] | undefined, s);

    if (type === TYPE_COUNTER) {
      const value =
        te.double_counter_value ??
        (te.counter_value !== undefined && te.counter_value !== null
          ? toNumber(te.counter_value)
          : undefined);
      if (value !== undefined) this.counterEvent(track, ts, pid, value);
      this.extraCounters(te, ts, s);
      return;
    }
    this.extraCounters(te, ts, s);

    // viz flow instants give back the original s/t/f event.
    if (type === TYPE_INSTANT && args && typeof args[VIZ_FLOW_PHASE] === 'string') {
      const ph = args[VIZ_FLOW_PHASE] as string;
      const id = typeof args[VIZ_FLOW_ID] === 'string' ? (args[VIZ_FLOW_ID] as string) : '';
      const bp = args[VIZ_FLOW_BP];
      delete args[VIZ_FLOW_PHASE];
      delete args[VIZ_FLOW_ID];
      delete args[VIZ_FLOW_BP];
      const ev = makeEvent({ ph, name, cat, ts, pid, tid, id, args: argsText(args) });
      if (bp !== undefined) ev.extra = { bp: JSON.stringify(bp) };
      this.batch.push(ev);
      return;
    }

    // Object events (written by viz as instants in category `object`) give back N/O/D.
    if (type === TYPE_INSTANT && cat === OBJECT_CATEGORY && args) {
      const ph = OBJECT_PHASE_TO_PH.get(args[OBJECT_PHASE]);
      if (ph !== undefined) {
        const id = args[OBJECT_ID];
        delete args[OBJECT_PHASE];
        delete args[OBJECT_ID];
        const ev = makeEvent({
          ph,
          name,
          ts,
          pid,
          tid,
          id: id === undefined ? '' : JSON.stringify(id),
          args: argsText(args),
        });
        this.flows(te, ev);
        this.batch.push(ev);
        return;
      }
    }

    let ev: TraceEvent;
    if (kind === 'thread') {
      const ph = type === TYPE_SLICE_BEGIN ? 'B' : type === TYPE_SLICE_END ? 'E' : 'i';
      // An end is named after the slice it closes (as Chrome JSON writers name their `E` events).
      if (type === TYPE_SLICE_BEGIN) track.open.push(name);
      else if (type === TYPE_SLICE_END) name = track.open.pop() ?? '';
      ev = makeEvent({
        ph,
        name,
        cat: type === TYPE_SLICE_END ? '' : cat,
        ts,
        pid,
        tid,
        args: argsText(args),
      });
      if (ph === 'i') ev.extra = { s: '"t"' };
    } else if (
      type === TYPE_INSTANT &&
      (kind === 'process' || kind === 'global' || (kind === 'other' && track.parent === undefined))
    ) {
      ev = makeEvent({ ph: 'i', name, cat, ts, pid, tid: pid, args: argsText(args) });
      ev.extra = { s: kind === 'process' ? '"p"' : '"g"' };
    } else {
      // Any other track: nestable async slices keyed by the track.
      const id = JSON.stringify('0x' + BigInt(uuid.startsWith('legacy') ? 0 : uuid).toString(16));
      let ph = 'n';
      if (type === TYPE_SLICE_BEGIN) {
        ph = 'b';
        track.open.push(name);
      } else if (type === TYPE_SLICE_END) {
        ph = 'e';
        const open = track.open.pop();
        if (open === undefined) {
          this.diagnostics.add(
            'unmatched_end',
            'error',
            `${this.input.name}: byte ${offset}: SLICE_END on track ${uuid} with no open slice; dropped`,
          );
          return;
        }
        name = open;
      }
      ev = makeEvent({ ph, name, cat, ts, pid, tid: pid, id, args: argsText(args) });
    }
    this.flows(te, ev);
    this.batch.push(ev);
  }

  /** Flow ids on an event as flow v2 fields (`bind_id`, `flow_in`, `flow_out`); one id per event. */
  private flows(te: Msg, ev: TraceEvent): void {
    const out = [...(te.flow_ids ?? []), ...(te.flow_ids_old ?? [])] as unknown[];
    const term = [...(te.terminating_flow_ids ?? []), ...(te.terminating_flow_ids_old ?? [])] as unknown[];
    if (out.length + term.length === 0) return;
    if (out.length + term.length > 1) {
      this.diagnostics.add(
        'flow_ids_dropped',
        'info',
        `events with several flow ids keep only the first (Chrome JSON binds one flow per event)`,
      );
    }
    const terminating = out.length === 0;
    const id = toBigInt(terminating ? term[0] : out[0]);
    const key = id.toString(16);
    const seen = this.flowsSeen.has(key);
    ev.extra = { ...ev.extra, bind_id: JSON.stringify('0x' + key) };
    if (terminating) {
      this.flowsSeen.delete(key);
      ev.extra.flow_in = 'true';
    } else {
      this.flowsSeen.add(key);
      if (seen) ev.extra.flow_in = 'true';
      ev.extra.flow_out = 'true';
    }
  }

  private counterEvent(track: TrackInfo, ts: number, pid: number, value: number): void {
    let name = track.name ?? '';
    let series = 'value';
    let id = '';
    const share = track.shareKey;
    if (share !== undefined && name.startsWith(share + '.')) {
      series = name.slice(share.length + 1);
      name = share;
      const m = /^(.*) \[id: (.*)\]$/.exec(name);
      if (m) {
        name = m[1]!;
        id = JSON.stringify(m[2]);
      }
    }
    this.batch.push(
      makeEvent({ ph: 'C', name, ts, pid, tid: pid, id, args: JSON.stringify({ [series]: value }) }),
    );
  }

  private extraCounters(te: Msg, ts: number, s: SeqState): void {
    void s;
    const pairs: [unknown[], unknown[]][] = [
      [te.extra_counter_track_uuids ?? [], te.extra_counter_values ?? []],
      [te.extra_double_counter_track_uuids ?? [], te.extra_double_counter_values ?? []],
    ];
    for (const [uuids, values] of pairs) {
      for (let i = 0; i < uuids.length && i < values.length; i++) {
        const t = this.tracks.get(toBigInt(uuids[i]).toString());
        if (t) this.counterEvent(t, ts, this.pidOf(t), toNumber(values[i]));
      }
    }
  }

  private annotations(list: Msg[] | undefined, s: SeqState): Dict | undefined {
    if (!list || list.length === 0) return undefined;
    const out: Dict = {};
    for (const a of list) {
      const key =
        a.name ??
        (a.name_iid !== undefined && a.name_iid !== null ? s.anns.get(toNumber(a.name_iid)) : undefined) ??
        '';
      out[key] = this.annotationValue(a, s);
    }
    return out;
  }

  private annotationValue(a: Msg, s: SeqState): unknown {
    if (a.bool_value !== undefined && a.bool_value !== null) return a.bool_value;
    if (a.int_value !== undefined && a.int_value !== null) return bigToJs(toBigInt(a.int_value), true);
    if (a.uint_value !== undefined && a.uint_value !== null) return bigToJs(toBigInt(a.uint_value), false);
    if (a.double_value !== undefined && a.double_value !== null) return a.double_value;
    if (a.string_value !== undefined && a.string_value !== null) return a.string_value;
    if (a.string_value_iid !== undefined && a.string_value_iid !== null)
      return s.locs.get(-toNumber(a.string_value_iid)) ?? '';
    if (a.pointer_value !== undefined && a.pointer_value !== null)
      return '0x' + toBigInt(a.pointer_value).toString(16);
    if (a.legacy_json_value !== undefined && a.legacy_json_value !== null) {
      try {
        return JSON.parse(a.legacy_json_value as string);
      } catch {
        return a.legacy_json_value;
      }
    }
    if (a.dict_entries?.length) {
      const o: Dict = {};
      for (const e of a.dict_entries as Msg[]) {
        const key =
          e.name ??
          (e.name_iid !== undefined && e.name_iid !== null ? s.anns.get(toNumber(e.name_iid)) : undefined);
        o[key ?? ''] = this.annotationValue(e, s);
      }
      return o;
    }
    if (a.array_values?.length) return (a.array_values as Msg[]).map((e) => this.annotationValue(e, s));
    return null;
  }
}

/** `phase` annotation value of an object instant -> its Chrome phase. */
const OBJECT_PHASE_TO_PH = new Map<unknown, string>(
  Object.entries(OBJECT_PHASES).map(([ph, phase]) => [phase, ph]),
);

function bigToJs(v: bigint, signed: boolean): number | string {
  const n = signed ? BigInt.asIntN(64, v) : BigInt.asUintN(64, v);
  return Number(n);
}

function argsText(args: Dict | undefined): string {
  if (!args) return '';
  for (const _ in args) return JSON.stringify(args);
  return '';
}

export function readPerfetto(input: Input): TraceSource {
  return new PerfettoReader(input);
}
