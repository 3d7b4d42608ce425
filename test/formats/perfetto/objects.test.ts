/**
 * Chrome JSON -> Perfetto -> Chrome JSON for a small hand-written trace with object events
 * (N/O/D), scoped instants with args, multi-series counters, an `X` slice on a thread with a large
 * tid, and B/E events with nested `func_args` / `return_value`: the Perfetto file is validated
 * (and decoded by protoc with the schema when installed), then read back and compared event by
 * event (name, ph, ts, pid/tid, id, args). The expected events apply the documented round-trip
 * exceptions (README, "Round trip"), nothing else.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { perfettoSchema } from '../../../src/formats/perfetto/schema.js';
import type { TraceEvent } from '../../../src/model/event.js';
import { openTrace } from '../../../src/ops/open.js';
import { ROOT } from '../../support/fixtures.js';
import { expandCompressed, splitRecords, validatePerfetto } from '../../support/perfetto-validator.js';
import { convertTo, readBytes, tmp } from './helpers.js';

const TracePacketType = perfettoSchema().packet;

const GC_TID = 2130708467;

const TRACE = {
  traceEvents: [
    { ph: 'M', name: 'process_name', pid: 7, tid: 7, args: { name: 'renderer' } },
    { ph: 'M', name: 'thread_name', pid: 7, tid: 7, args: { name: 'main' } },
    { ph: 'M', name: 'thread_name', pid: 7, tid: GC_TID, args: { name: 'v8:gc' } },
    {
      ph: 'B',
      name: 'compute',
      cat: 'js',
      ts: 100,
      pid: 7,
      tid: 7,
      args: { func_args: { a: 1, nested: { x: [1, 2] } } },
    },
    {
      ph: 'X',
      name: 'Scavenge',
      cat: 'gc',
      ts: 105,
      dur: 20.5,
      pid: 7,
      tid: GC_TID,
      args: { before: 1048576 },
    },
    { ph: 'i', name: 'tick', cat: 'mark', ts: 110, pid: 7, tid: 7, s: 't', args: { seq: 1, label: 't' } },
    { ph: 'i', name: 'proc-mark', ts: 111, pid: 7, tid: 7, s: 'p', args: { n: 2.5 } },
    {
      ph: 'i',
      name: 'global-mark',
      ts: 112,
      pid: 7,
      tid: 7,
      s: 'g',
      args: { flag: true, list: ['a', null] },
    },
    { ph: 'C', name: 'memory', ts: 120, pid: 7, tid: 7, args: { heap: 1024, external: 12.5, rss: 4096 } },
    { ph: 'C', name: 'memory', ts: 130, pid: 7, tid: 7, args: { heap: 2048, external: 0.25, rss: 4096 } },
    { ph: 'N', name: 'cc::Layer', ts: 140, pid: 7, tid: 7, id: '1367.1' },
    { ph: 'N', name: 'Counted', ts: 141, pid: 7, tid: GC_TID, id: 42 },
    {
      ph: 'O',
      name: 'cc::Layer',
      ts: 150.5,
      pid: 7,
      tid: 7,
      id: '1367.1',
      // a snapshot field named like the object annotations must not collide with them
      args: {
        snapshot: { phase: 'paint', id: 5, bounds: [0, 0, 10, 20], opaque: true, layer: { name: 'root' } },
      },
    },
    { ph: 'O', name: 'Counted', ts: 151, pid: 7, tid: GC_TID, id: 42, args: { snapshot: { n: 3 } } },
    { ph: 'D', name: 'cc::Layer', ts: 160, pid: 7, tid: 7, id: '1367.1' },
    { ph: 'D', name: 'Counted', ts: 161, pid: 7, tid: GC_TID, id: 42 },
    { ph: 'E', name: 'compute', ts: 200, pid: 7, tid: 7, args: { return_value: 5 } },
  ],
};

interface Row {
  ph: string;
  name: string;
  cat: string;
  /** Absolute ns. */
  ts: string;
  pid: unknown;
  tid: unknown;
  id: string;
  args: unknown;
}

function row(ev: TraceEvent, baseUs: number): Row {
  return {
    ph: ev.ph,
    name: ev.name,
    cat: ev.cat,
    ts: (BigInt(baseUs) * 1000n + BigInt(ev.ts)).toString(),
    pid: ev.pid,
    tid: ev.tid,
    id: ev.id,
    args: ev.args === '' ? undefined : JSON.parse(ev.args),
  };
}

const key = (r: Row): string => JSON.stringify(r);

async function readRows(path: string): Promise<Row[]> {
  const { source } = await openTrace(path);
  const events: TraceEvent[] = [];
  for await (const b of source.batches()) events.push(...b);
  return events.filter((e) => e.ph !== 'M').map((e) => row(e, source.meta.baseUs));
}

/** The input events as they must come back, per the documented round-trip exceptions. */
function expected(input: Row[]): Row[] {
  const out: Row[] = [];
  for (const r of input) {
    switch (r.ph) {
      case 'X': {
        // exception: slices come back as B/E pairs (the end named after the slice, without category or args)
        const dur = TRACE.traceEvents.find((e) => e.ph === 'X')!.dur!;
        out.push({ ...r, ph: 'B' });
        const end = (BigInt(r.ts) + BigInt(Math.round(dur * 1000))).toString();
        out.push({ ...r, ph: 'E', cat: '', ts: end, args: undefined });
        break;
      }
      case 'C':
        // exception: counters lose their tid and come back one event per series
        for (const [k, v] of Object.entries(r.args as Record<string, unknown>))
          out.push({ ...r, tid: r.pid, args: { [k]: v } });
        break;
      case 'i': {
        // exception: process-scoped instants lose their tid, global ones their pid and tid
        const s = (TRACE.traceEvents.find((e) => e.name === r.name) as { s: string }).s;
        out.push(s === 'p' ? { ...r, tid: r.pid } : s === 'g' ? { ...r, pid: 0, tid: 0 } : r);
        break;
      }
      default:
        out.push(r);
    }
  }
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function hasProtoc(): boolean {
  return spawnSync('protoc', ['--version']).status === 0;
}

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The TrackEvents of a trace with their interned names resolved (per sequence). */
function trackEvents(bytes: Buffer): { type: number; name: string; cats: string[]; anns: Msg[] }[] {
  const seqs = new Map<
    number,
    { names: Map<number, string>; cats: Map<number, string>; anns: Map<number, string> }
  >();
  const out: { type: number; name: string; cats: string[]; anns: Msg[] }[] = [];
  for (const { body } of splitRecords(expandCompressed(bytes))) {
    const p = TracePacketType.toObject(TracePacketType.decode(body), { longs: Number, enums: Number }) as Msg;
    const id = (p.trusted_packet_sequence_id as number | undefined) ?? 0;
    let s = seqs.get(id);
    if (!s || (p.sequence_flags ?? 0) & 1)
      seqs.set(id, (s = { names: new Map(), cats: new Map(), anns: new Map() }));
    for (const e of p.interned_data?.event_names ?? []) s.names.set(e.iid, e.name);
    for (const e of p.interned_data?.event_categories ?? []) s.cats.set(e.iid, e.name);
    for (const e of p.interned_data?.debug_annotation_names ?? []) s.anns.set(e.iid, e.name);
    const te = p.track_event as Msg | undefined;
    if (!te) continue;
    out.push({
      type: te.type,
      name: s.names.get(te.name_iid) ?? '',
      cats: ((te.category_iids ?? []) as number[]).map((i) => s.cats.get(i) ?? '?'),
      anns: ((te.debug_annotations ?? []) as Msg[]).map((a) => ({ ...a, name: s.anns.get(a.name_iid) })),
    });
  }
  return out;
}

describe('Perfetto round trip: objects, scoped instants, counters, gc thread, func args', () => {
  let pfPath = '';
  let pfBytes: Buffer = Buffer.alloc(0);
  let unsupported: unknown;
  const input = join(tmp, 'objects.json');

  before(async () => {
    writeFileSync(input, JSON.stringify(TRACE));
    const pf = await convertTo(input, 'perfetto', 'objects.pftrace');
    pfPath = pf.path;
    pfBytes = readBytes(pf.path);
    unsupported = pf.result.diagnostics.get('perfetto_unsupported_phase');
  });

  it('writes a valid trace (validator, and protoc names every field), dropping nothing', function () {
    assert.equal(unsupported, undefined);
    const report = validatePerfetto(pfBytes);
    assert.deepEqual(report.violations.slice(0, 5), [], `violations: ${JSON.stringify(report.byRule)}`);
    assert.deepEqual(report.warnings, []);
    if (!hasProtoc()) return;
    const dir = join(ROOT, 'schemas', 'perfetto');
    const typed = spawnSync(
      'protoc',
      ['--decode=perfetto.protos.Trace', '-I', dir, join(dir, 'trace.proto')],
      {
        input: expandCompressed(pfBytes),
        maxBuffer: 1 << 28,
      },
    );
    assert.equal(typed.status, 0, `protoc --decode failed: ${typed.stderr}`);
    assert.deepEqual(typed.stdout.toString('utf8').match(/^\s*[0-9]+:.*$/m), null);
  });

  it('writes object events as instants in category "object" with phase, id and nested snapshot', () => {
    const objs = trackEvents(pfBytes).filter((e) => e.cats.includes('object'));
    assert.deepEqual(objs.map((e) => `${e.type} ${e.name}`).sort(), [
      '3 Counted',
      '3 Counted',
      '3 Counted',
      '3 cc::Layer',
      '3 cc::Layer',
      '3 cc::Layer',
    ]);
    const snap = objs.find((e) => e.anns.some((a) => a.name === 'phase' && a.string_value === 'snapshot'));
    assert.ok(snap);
    const ann = (name: string): Msg | undefined => snap.anns.find((a) => a.name === name);
    assert.equal(ann('id')?.string_value, '1367.1');
    const fields = (ann('snapshot')?.dict_entries ?? []) as Msg[];
    assert.deepEqual(
      fields.map((f) => f.name),
      ['phase', 'id', 'bounds', 'opaque', 'layer'],
    );
    assert.equal(fields.find((f) => f.name === 'layer')?.dict_entries?.[0]?.string_value, 'root');
    const counted = trackEvents(pfBytes).find(
      (e) => e.name === 'Counted' && e.anns.some((a) => a.string_value === 'new'),
    );
    assert.equal(counted?.anns.find((a) => a.name === 'id')?.int_value, 42);
  });

  it('reads every event back as it was written', async () => {
    const { source } = await openTrace(input);
    const inEvents: TraceEvent[] = [];
    for await (const b of source.batches()) inEvents.push(...b);
    const before = expected(inEvents.filter((e) => e.ph !== 'M').map((e) => row(e, source.meta.baseUs)));
    const back = join(tmp, 'objects.back.json');
    await convertTo(pfPath, 'chrome', 'objects.back.json');
    for (const path of [pfPath, back]) {
      const after = (await readRows(path)).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
      assert.deepEqual(after, before, path);
    }
    // Spot checks of what the comparison covers.
    const rows = await readRows(back);
    const o = rows.find((r) => r.ph === 'O' && r.name === 'cc::Layer');
    assert.deepEqual(o, {
      ph: 'O',
      name: 'cc::Layer',
      cat: '',
      ts: before.find((r) => r.ph === 'O' && r.name === 'cc::Layer')!.ts,
      pid: 7,
      tid: 7,
      id: '"1367.1"',
      args: {
        snapshot: { phase: 'paint', id: 5, bounds: [0, 0, 10, 20], opaque: true, layer: { name: 'root' } },
      },
    });
    assert.equal(rows.find((r) => r.ph === 'N' && r.name === 'Counted')?.id, '42');
    assert.equal(rows.find((r) => r.ph === 'B' && r.name === 'Scavenge')?.tid, GC_TID);
    assert.equal(rows.filter((r) => r.ph === 'C').length, 6);
    assert.deepEqual(
      rows.filter((r) => r.ph === 'E' && r.tid === 7).map((r) => [r.name, r.args]),
      [['compute', { return_value: 5 }]],
    );
  });

  it('keeps names of both threads, including the large tid', async () => {
    const { source } = await openTrace(pfPath);
    for await (const _ of source.batches());
    assert.equal(source.meta.threadNames.get(`number:7/number:${GC_TID}`), 'v8:gc');
    assert.equal(source.meta.threadNames.get('number:7/number:7'), 'main');
    assert.equal(source.meta.processNames.get(7), 'renderer');
  });
});
