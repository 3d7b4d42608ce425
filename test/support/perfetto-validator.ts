/**
 * Checks a Perfetto trace against the semantic rules of the project's Perfetto wire reference
 * (§7): every rule that makes trace_processor drop or misplace data is one `rule` code here.
 * Decodes with protobufjs against schemas/perfetto (independent of viz's hand encoder).
 */
import { inflateSync } from 'node:zlib';
import { perfettoSchema } from '../../src/formats/perfetto/schema.js';

const TracePacketType = perfettoSchema().packet;

export interface Violation {
  rule: string;
  /** Index of the packet in the file. */
  packet: number;
  /** Byte offset of the packet's record. */
  offset: number;
  message: string;
}

export interface ValidationReport {
  packets: number;
  trackEvents: number;
  descriptors: number;
  violations: Violation[];
  /** Violation counts by rule. */
  byRule: Record<string, number>;
  /** Things that load but look unintended (flows with one endpoint). */
  warnings: string[];
}

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface SeqState {
  cleared: boolean;
  names: Set<string>;
  cats: Set<string>;
  anns: Set<string>;
  locs: Set<string>;
  lastTs: bigint | undefined;
  defaultTrack: string | undefined;
}

interface TrackState {
  kind: 'process' | 'thread' | 'counter' | 'other';
  parent: string | undefined;
  identity: string;
}

const MAX_DEPTH = 512;

/** Splits a Trace into its records; throws on broken framing. */
/** A protobuf varint (non-negative `n` below 2^53). */
export function encodeVarint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

export function splitRecords(buf: Uint8Array): { offset: number; body: Uint8Array }[] {
  const out: { offset: number; body: Uint8Array }[] = [];
  let p = 0;
  while (p < buf.length) {
    const start = p;
    if (buf[p] !== 0x0a)
      throw new Error(`byte ${p}: expected record tag 0x0a, found 0x${buf[p]!.toString(16)}`);
    p++;
    let len = 0;
    let mul = 1;
    for (;;) {
      if (p >= buf.length) throw new Error(`byte ${start}: record length cut`);
      const b = buf[p++]!;
      len += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) break;
    }
    if (p + len > buf.length) throw new Error(`byte ${start}: record of ${len} bytes runs past the end`);
    out.push({ offset: start, body: buf.subarray(p, p + len) });
    p += len;
  }
  return out;
}

function has(m: Msg | undefined, key: string): boolean {
  return (
    m !== undefined &&
    m !== null &&
    Object.prototype.hasOwnProperty.call(m, key) &&
    m[key] !== null &&
    m[key] !== undefined
  );
}

export function validatePerfetto(buf: Uint8Array): ValidationReport {
  const violations: Violation[] = [];
  const seqs = new Map<number, SeqState>();
  const tracks = new Map<string, TrackState>();
  const identities = new Map<string, string>();
  let trackEvents = 0;
  const sliceEvents = new Map<string, { ts: bigint; type: number; packet: number; offset: number }[]>();
  const flows = new Map<string, number>();
  const warnings: string[] = [];
  let descriptors = 0;
  let packet = -1;
  let offset = 0;
  const fail = (rule: string, message: string): void => {
    violations.push({ rule, packet, offset, message });
  };

  let records: { offset: number; body: Uint8Array }[];
  try {
    records = splitRecords(buf);
  } catch (err) {
    return {
      warnings: [],
      packets: 0,
      trackEvents: 0,
      descriptors: 0,
      violations: [{ rule: 'framing', packet: 0, offset: 0, message: (err as Error).message }],
      byRule: { framing: 1 },
    };
  }

  // compressed_packets containers (written by the Perfetto service and by viz) are inflated and
  // their records checked in place; the container itself carries no sequence.
  const expanded: { offset: number; body: Uint8Array }[] = [];
  for (const rec of records) {
    let outer: Msg;
    try {
      outer = TracePacketType.toObject(TracePacketType.decode(rec.body), {
        longs: String,
        enums: Number,
      }) as Msg;
    } catch {
      expanded.push(rec);
      continue;
    }
    if (!outer.compressed_packets) {
      expanded.push(rec);
      continue;
    }
    try {
      for (const inner of splitRecords(inflateSync(outer.compressed_packets as Uint8Array)))
        expanded.push({ offset: rec.offset, body: inner.body });
    } catch (err) {
      violations.push({
        rule: 'framing',
        packet: expanded.length,
        offset: rec.offset,
        message: `compressed_packets: ${(err as Error).message}`,
      });
    }
  }
  records = expanded;

  for (const rec of records) {
    packet++;
    offset = rec.offset;
    let pkt: Msg;
    try {
      pkt = TracePacketType.toObject(TracePacketType.decode(rec.body), {
        longs: String,
        enums: Number,
      }) as Msg;
    } catch (err) {
      fail('decode', (err as Error).message);
      continue;
    }
    const seqId: number = pkt.trusted_packet_sequence_id ?? 0;
    if (!seqId) fail('sequence_id', 'packet without a non-zero trusted_packet_sequence_id');
    let s = seqs.get(seqId);
    if (!s)
      seqs.set(
        seqId,
        (s = {
          cleared: false,
          names: new Set(),
          cats: new Set(),
          anns: new Set(),
          locs: new Set(),
          lastTs: undefined,
          defaultTrack: undefined,
        }),
      );
    const flags: number = (pkt.sequence_flags ?? 0) | (pkt.incremental_state_cleared ? 1 : 0);
    if (flags & 1) {
      s.cleared = true;
      s.names.clear();
      s.cats.clear();
      s.anns.clear();
      s.locs.clear();
      s.defaultTrack = undefined;
    }
    if (flags & 2 && !s.cleared)
      fail(
        'incremental_state',
        `sequence ${seqId}: SEQ_NEEDS_INCREMENTAL_STATE before any SEQ_INCREMENTAL_STATE_CLEARED`,
      );
    if (flags & 2 && !seqId) fail('incremental_state', 'SEQ_NEEDS_INCREMENTAL_STATE with sequence id 0');
    const defaults = pkt.trace_packet_defaults?.track_event_defaults as Msg | undefined;
    if (defaults && has(defaults, 'track_uuid')) {
      if (!s.cleared)
        fail('incremental_state', `sequence ${seqId}: packet defaults before SEQ_INCREMENTAL_STATE_CLEARED`);
      s.defaultTrack = String(defaults.track_uuid);
    }
    const id = pkt.interned_data as Msg | undefined;
    if (id) {
      if (!s.cleared)
        fail('incremental_state', `sequence ${seqId}: interned data before SEQ_INCREMENTAL_STATE_CLEARED`);
      for (const e of id.event_names ?? []) s.names.add(String(e.iid));
      for (const e of id.event_categories ?? []) s.cats.add(String(e.iid));
      for (const e of id.debug_annotation_names ?? []) s.anns.add(String(e.iid));
      for (const e of id.source_locations ?? []) s.locs.add(String(e.iid));
      for (const list of [
        id.event_names,
        id.event_categories,
        id.debug_annotation_names,
        id.source_locations,
      ]) {
        for (const e of list ?? [])
          if (!has(e, 'iid') || String(e.iid) === '0')
            fail('iid_zero', 'interned entry without an iid (0 means unset)');
      }
    }

    if (pkt.track_descriptor) {
      descriptors++;
      const td = pkt.track_descriptor as Msg;
      if (!has(td, 'uuid')) fail('descriptor', 'TrackDescriptor without uuid');
      const uuid = String(td.uuid ?? '0');
      let kind: TrackState['kind'] = 'other';
      let identity = '';
      if (td.thread) {
        kind = 'thread';
        if (!has(td.thread, 'pid') || !has(td.thread, 'tid'))
          fail('descriptor', `thread track ${uuid} lacks pid or tid`);
        identity = `thread ${td.thread.pid}/${td.thread.tid}`;
      } else if (td.process) {
        kind = 'process';
        if (!has(td.process, 'pid')) fail('descriptor', `process track ${uuid} lacks pid`);
        identity = `process ${td.process.pid}`;
      } else if (td.counter) kind = 'counter';
      const parent = has(td, 'parent_uuid') ? String(td.parent_uuid) : undefined;
      if (uuid === '0' && parent !== undefined) fail('descriptor', 'track uuid 0 must not have a parent');
      const prev = tracks.get(uuid);
      if (prev && (prev.kind !== kind || prev.parent !== parent || prev.identity !== identity)) {
        fail('descriptor_conflict', `track ${uuid} re-described as a different kind of track`);
      }
      if (identity !== '') {
        const other = identities.get(identity);
        if (other !== undefined && other !== uuid)
          fail(
            'descriptor_duplicate_identity',
            `${identity} has two track uuids (${other}, ${uuid}): read as pid/tid reuse`,
          );
        identities.set(identity, uuid);
      }
      if (!prev) tracks.set(uuid, { kind, parent, identity });
    }

    if (pkt.track_event) {
      trackEvents++;
      const te = pkt.track_event as Msg;
      if (!has(pkt, 'timestamp')) fail('timestamp_missing', 'TrackEvent packet without timestamp');
      else {
        const ts = BigInt(pkt.timestamp);
        if (s.lastTs !== undefined && ts < s.lastTs)
          fail('timestamp_order', `sequence ${seqId}: timestamp ${ts} after ${s.lastTs}`);
        s.lastTs = ts;
      }
      if (has(pkt, 'timestamp_clock_id'))
        fail('clock', 'timestamp_clock_id set (no ClockSnapshot is written)');
      const type: number = te.type ?? 0;
      if (type < 1 || type > 4) fail('event_type', `TrackEvent type ${type} (must be set)`);
      const usesIids =
        (!has(te, 'track_uuid') && s.defaultTrack !== undefined) ||
        has(te, 'name_iid') ||
        (te.category_iids?.length ?? 0) > 0 ||
        has(te, 'source_location_iid') ||
        anyAnnotationIid(te.debug_annotations);
      if (usesIids && !(flags & 2))
        fail('incremental_state', 'packet uses iids without SEQ_NEEDS_INCREMENTAL_STATE');
      if (has(te, 'name_iid') && !s.names.has(String(te.name_iid)))
        fail('iid_undefined', `name iid ${te.name_iid} not defined on sequence ${seqId}`);
      for (const c of te.category_iids ?? [])
        if (!s.cats.has(String(c)))
          fail('iid_undefined', `category iid ${c} not defined on sequence ${seqId}`);
      if (has(te, 'source_location_iid') && !s.locs.has(String(te.source_location_iid)))
        fail('iid_undefined', `source location iid ${te.source_location_iid} not defined`);
      checkAnnotations(te.debug_annotations, s, fail, true);
      const uuid = has(te, 'track_uuid') ? String(te.track_uuid) : (s.defaultTrack ?? '0');
      const track = tracks.get(uuid);
      if (!track) fail('track_undescribed', `track ${uuid} used before any TrackDescriptor`);
      const isCounter = track?.kind === 'counter';
      if (type === 4) {
        if (!isCounter) fail('counter_track', `counter value on non-counter track ${uuid}`);
        if (!has(te, 'counter_value') && !has(te, 'double_counter_value'))
          fail('counter_value', 'TYPE_COUNTER without a value');
      } else {
        if (isCounter) fail('counter_track', `slice/instant event on counter track ${uuid}`);
        if (has(te, 'counter_value') || has(te, 'double_counter_value'))
          fail('counter_track', 'counter value on a non-counter event');
      }
      if (track && (type === 1 || type === 2) && has(pkt, 'timestamp')) {
        // Checked after sorting, as trace_processor sorts packets by time (stable) before parsing.
        let list = sliceEvents.get(uuid);
        if (!list) sliceEvents.set(uuid, (list = []));
        list.push({ ts: BigInt(pkt.timestamp), type, packet, offset });
      }
      if (type === 2 && (has(te, 'name_iid') || has(te, 'name')))
        fail('end_named', 'SLICE_END carries a name (closes by name match in trace_processor)');
      for (const id of te.flow_ids ?? []) flows.set(String(id), (flows.get(String(id)) ?? 0) + 1);
      for (const id of te.terminating_flow_ids ?? []) flows.set(String(id), (flows.get(String(id)) ?? 0) + 1);
    }
  }
  // Balance and depth per track, in the order trace_processor parses: by timestamp, ties in
  // file order.
  for (const [uuid, list] of sliceEvents) {
    list.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.packet - b.packet));
    let depth = 0;
    for (const e of list) {
      packet = e.packet;
      offset = e.offset;
      if (e.type === 1) {
        depth++;
        if (depth > MAX_DEPTH) fail('depth', `track ${uuid}: nesting depth ${depth} > ${MAX_DEPTH}`);
      } else if (depth === 0) fail('unbalanced', `track ${uuid}: SLICE_END with no open slice`);
      else depth--;
    }
    if (depth !== 0) {
      packet = records.length;
      offset = buf.length;
      fail('unbalanced', `track ${uuid}: ${depth} slices never end`);
    }
  }
  // A flow id seen on one event only draws no arrow (not an error for trace_processor).
  for (const [id, n] of flows) if (n < 2) warnings.push(`flow ${id} has only one endpoint`);
  const byRule: Record<string, number> = {};
  for (const v of violations) byRule[v.rule] = (byRule[v.rule] ?? 0) + 1;
  return { packets: records.length, trackEvents, descriptors, violations, byRule, warnings };
}

function anyAnnotationIid(list: Msg[] | undefined): boolean {
  for (const a of list ?? []) {
    if (has(a, 'name_iid') || has(a, 'string_value_iid')) return true;
    if (anyAnnotationIid(a.dict_entries) || anyAnnotationIid(a.array_values)) return true;
  }
  return false;
}

function checkAnnotations(
  list: Msg[] | undefined,
  s: SeqState,
  fail: (rule: string, message: string) => void,
  top: boolean,
): void {
  for (const a of list ?? []) {
    if (has(a, 'name_iid') && !s.anns.has(String(a.name_iid)))
      fail('iid_undefined', `debug annotation name iid ${a.name_iid} not defined`);
    if (top && !has(a, 'name_iid') && !has(a, 'name'))
      fail('annotation_name', 'top-level debug annotation without a name');
    checkAnnotations(a.dict_entries, s, fail, true);
    checkAnnotations(a.array_values, s, fail, false);
  }
}

/** The trace with every `compressed_packets` container replaced by the records inside it. */
export function expandCompressed(buf: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  for (const rec of splitRecords(buf)) {
    const outer = TracePacketType.toObject(TracePacketType.decode(rec.body)) as Msg;
    if (outer.compressed_packets) parts.push(inflateSync(outer.compressed_packets as Uint8Array));
    else
      parts.push(
        Buffer.from(buf.subarray(rec.offset, rec.body.byteOffset - (buf.byteOffset ?? 0) + rec.body.length)),
      );
  }
  return Buffer.concat(parts);
}
