/**
 * What the writer puts on the wire for each kind of input event, decoded with protobufjs
 * (independently of viz's reader).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { perfettoSchema, toBigInt } from '../../../src/formats/perfetto/schema.js';
import { expandCompressed, splitRecords, validatePerfetto } from '../../support/perfetto-validator.js';
import { convertTo, memoryOutput, readBytes, tmp } from './helpers.js';
import { CacheThrottle, writePerfetto } from '../../../src/formats/perfetto/writer.js';
import { openTrace } from '../../../src/ops/open.js';

const TracePacketType = perfettoSchema().packet;

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Decoded {
  packets: Msg[];
  tracks: Map<string, Msg>;
  /** Track events with names resolved (per sequence interning) and their track. */
  events: { type: number; name: string; cat: string; track: Msg; te: Msg; ann: Record<string, Msg> }[];
  locs: Msg[];
}

async function writeAndDecode(name: string, events: unknown[]): Promise<Decoded> {
  const input = join(tmp, name + '.json');
  writeFileSync(input, JSON.stringify({ traceEvents: events }));
  const { path } = await convertTo(input, 'perfetto', name + '.pftrace');
  const bytes = readBytes(path);
  assert.deepEqual(validatePerfetto(bytes).violations, []);
  const packets = splitRecords(expandCompressed(bytes)).map(
    (r) => TracePacketType.toObject(TracePacketType.decode(r.body), { longs: String }) as Msg,
  );
  const tracks = new Map<string, Msg>();
  const seq = new Map<
    number,
    { names: Map<string, string>; cats: Map<string, string>; anns: Map<string, string>; track?: string }
  >();
  const out: Decoded['events'] = [];
  const locs: Msg[] = [];
  for (const p of packets) {
    if (p.track_descriptor) tracks.set(String(p.track_descriptor.uuid), p.track_descriptor);
    let s = seq.get(p.trusted_packet_sequence_id);
    if (!s || (p.sequence_flags ?? 0) & 1)
      seq.set(p.trusted_packet_sequence_id, (s = { names: new Map(), cats: new Map(), anns: new Map() }));
    for (const e of p.interned_data?.event_names ?? []) s.names.set(String(e.iid), e.name);
    for (const e of p.interned_data?.event_categories ?? []) s.cats.set(String(e.iid), e.name);
    for (const e of p.interned_data?.debug_annotation_names ?? []) s.anns.set(String(e.iid), e.name);
    locs.push(...(p.interned_data?.source_locations ?? []));
    if (p.trace_packet_defaults?.track_event_defaults?.track_uuid)
      s.track = String(p.trace_packet_defaults.track_event_defaults.track_uuid);
    const te = p.track_event;
    if (!te) continue;
    const ann: Record<string, Msg> = {};
    for (const a of te.debug_annotations ?? []) ann[s.anns.get(String(a.name_iid)) ?? a.name] = a;
    out.push({
      type: te.type,
      name: te.name_iid ? s.names.get(String(te.name_iid))! : '',
      cat: (te.category_iids ?? []).map((c: unknown) => s.cats.get(String(c))).join(','),
      track: tracks.get(String(te.track_uuid ?? s.track))!,
      te,
      ann,
    });
  }
  return { packets, tracks, events: out, locs };
}

describe('Perfetto writer: what goes on the wire', () => {
  it('instants by scope: thread track, process track, one global track without parent', async () => {
    const d = await writeAndDecode('scopes', [
      { ph: 'i', name: 't', ts: 1, pid: 5, tid: 6 },
      { ph: 'i', name: 'p', ts: 2, pid: 5, tid: 6, s: 'p' },
      { ph: 'I', name: 'g', ts: 3, pid: 5, tid: 6, s: 'g' },
    ]);
    const by = (n: string) => d.events.find((e) => e.name === n)!;
    assert.equal(by('t').type, 3);
    assert.deepEqual(by('t').track.thread, { pid: 5, tid: '6' });
    assert.equal(by('p').track.process.pid, 5);
    assert.equal(by('g').track.name, 'Global instants');
    assert.equal(by('g').track.parent_uuid, undefined);
  });

  it('counters: one counter track per series under the process, int and double values', async () => {
    const d = await writeAndDecode('counters', [
      { ph: 'C', name: 'mem', ts: 1, pid: 5, tid: 6, args: { rss: 10, ratio: 0.5 } },
      { ph: 'C', name: 'mem', ts: 2, pid: 5, tid: 6, args: { rss: -3, ratio: 1.5 } },
      { ph: 'C', name: 'q', id: 7, ts: 2, pid: 5, tid: 6, args: { depth: 1 } },
    ]);
    const counters = d.events.filter((e) => e.type === 4);
    assert.deepEqual(
      counters.map((e) => [
        e.track.name,
        e.track.counter.y_axis_share_key,
        e.te.counter_value ?? e.te.double_counter_value,
      ]),
      [
        ['mem.rss', 'mem', '10'],
        ['mem.ratio', 'mem', 0.5],
        ['mem.rss', 'mem', '-3'],
        ['mem.ratio', 'mem', 1.5],
        ['q [id: 7].depth', 'q [id: 7]', '1'],
      ],
    );
    const proc = [...d.tracks.values()].find((t) => t.process?.pid === 5)!;
    assert.ok(counters.every((e) => e.track.parent_uuid === proc.uuid));
  });

  it('async slices on their own track under the process; legacy S/F too', async () => {
    const d = await writeAndDecode('async', [
      { ph: 'b', name: 'req', cat: 'net', id: '0x1', ts: 1, pid: 5, tid: 6 },
      { ph: 'n', name: 'step', cat: 'net', id: '0x1', ts: 2, pid: 5, tid: 7 },
      { ph: 'e', name: 'req', cat: 'net', id: '0x1', ts: 3, pid: 5, tid: 7, args: { ok: true } },
      { ph: 'S', name: 'old', cat: 'x', id: 9, ts: 1, pid: 5, tid: 6 },
      { ph: 'F', name: 'old', cat: 'x', id: 9, ts: 4, pid: 5, tid: 6 },
    ]);
    const proc = [...d.tracks.values()].find((t) => t.process?.pid === 5)!;
    const req = d.events.filter((e) => e.track?.name === 'req');
    assert.deepEqual(
      req.map((e) => e.type),
      [1, 3, 2],
    );
    assert.equal(req[0]!.track.parent_uuid, proc.uuid);
    assert.equal(req[2]!.ann.ok!.bool_value, true);
    assert.deepEqual(
      d.events.filter((e) => e.track?.name === 'old').map((e) => e.type),
      [1, 2],
    );
  });

  it('flows: fixed64 ids, the end terminating, v1 phases kept in viz.flow_* annotations', async () => {
    const d = await writeAndDecode('flows', [
      { ph: 'X', name: 'a', ts: 1, dur: 10, pid: 1, tid: 1 },
      { ph: 's', name: 'f', cat: 'c', id: '0x5', ts: 2, pid: 1, tid: 1 },
      { ph: 'X', name: 'b', ts: 20, dur: 10, pid: 1, tid: 2 },
      { ph: 'f', name: 'f', cat: 'c', id: '0x5', ts: 21, pid: 1, tid: 2, bp: 'e' },
      { ph: 'X', name: 'v2a', ts: 40, dur: 1, pid: 1, tid: 1, bind_id: '0xab', flow_out: true },
      { ph: 'X', name: 'v2b', ts: 50, dur: 1, pid: 1, tid: 2, bind_id: '0xab', flow_in: true },
    ]);
    const s = d.events.find((e) => e.ann['viz.flow_phase']?.string_value === 's')!;
    const f = d.events.find((e) => e.ann['viz.flow_phase']?.string_value === 'f')!;
    assert.equal(s.type, 3);
    assert.equal(s.ann['viz.flow_id']!.string_value, '"0x5"');
    assert.equal(f.ann['viz.flow_bp']!.string_value, 'e');
    assert.equal(toBigInt(s.te.flow_ids[0]), toBigInt(f.te.terminating_flow_ids[0]));
    const a = d.events.find((e) => e.name === 'v2a')!;
    const b = d.events.find((e) => e.name === 'v2b')!;
    assert.equal(toBigInt(a.te.flow_ids[0]), toBigInt(b.te.terminating_flow_ids[0]));
  });

  it('args as typed debug annotations, nested dicts and arrays', async () => {
    const d = await writeAndDecode('args', [
      {
        ph: 'X',
        name: 'a',
        ts: 1,
        dur: 1,
        pid: 1,
        tid: 1,
        args: { b: true, i: -7, u: 2 ** 63, d: 1.25, s: 'x', n: null, o: { k: [1, 'two'] }, e: {}, z: [] },
      },
    ]);
    const ann = d.events.find((e) => e.type === 1)!.ann;
    assert.equal(ann.b!.bool_value, true);
    assert.equal(ann.i!.int_value, '-7');
    assert.equal(ann.u!.uint_value, '9223372036854775808');
    assert.equal(ann.d!.double_value, 1.25);
    assert.equal(ann.s!.string_value, 'x');
    assert.equal(ann.n!.legacy_json_value, 'null');
    assert.equal(ann.o!.dict_entries[0].name, 'k');
    assert.deepEqual(
      ann.o!.dict_entries[0].array_values.map((v: Msg) => v.int_value ?? v.string_value),
      ['1', 'two'],
    );
    assert.equal(ann.e!.legacy_json_value, '{}');
    assert.equal(ann.z!.legacy_json_value, '[]');
  });

  it('args repeated over many events (encoded once per sequence) decode the same every time', async () => {
    // Values long enough that lengths take two bytes, which the encoder patches in place (moving
    // what it wrote), yet args short enough to be encoded once and reused.
    const long = 'L'.repeat(60);
    const variants = [
      { depth: 1, items: 2 },
      { s: long, o: { k: [long, 2], deep: { x: long } } },
      { depth: 1, items: 3 },
    ];
    const events = [];
    for (let i = 0; i < 90; i++)
      events.push({
        ph: 'X',
        name: `f${i % 7}`,
        ts: 10 * i,
        dur: 5,
        pid: 1,
        tid: 1 + (i % 2),
        args: variants[i % 3],
      });
    const d = await writeAndDecode('repeated-args', events);
    const begins = d.events.filter((e) => e.type === 1);
    assert.equal(begins.length, 90);
    begins.forEach((e, i) => {
      const want = variants[i % 3]!;
      assert.deepEqual(Object.keys(e.ann).sort(), Object.keys(want).sort(), `event ${i}`);
      if ('s' in want) {
        assert.equal(e.ann.s!.string_value, long);
        const o = e.ann.o!.dict_entries as Msg[];
        assert.deepEqual(
          o.map((x) => x.name),
          ['k', 'deep'],
        );
        assert.equal(o[0]!.array_values[0].string_value, long);
        assert.equal(o[0]!.array_values[1].int_value, '2');
        assert.equal(o[1]!.dict_entries[0].string_value, long);
      } else {
        assert.equal(e.ann.depth!.int_value, '1');
        assert.equal(e.ann.items!.int_value, String(want.items));
      }
    });
  });

  it('repeated args after the incremental state is cleared: their names are interned again', async () => {
    const events = [];
    for (let i = 0; i < 60; i++)
      events.push({ ph: 'X', name: `g${i}`, ts: 10 * i, dur: 5, pid: 1, tid: 1, args: { a: i % 2, b: 'x' } });
    const input = join(tmp, 'repeated-args-cleared.json');
    writeFileSync(input, JSON.stringify(events));
    const { source } = await openTrace(input);
    const mem = memoryOutput();
    // A clear every few packets: bytes reused from before a clear would name iids it dropped.
    await writePerfetto(source, mem.out, { compress: false, maxInterned: 4 });
    const bytes = mem.bytes();
    assert.deepEqual(validatePerfetto(bytes).violations, []);
    const flags = splitRecords(bytes).filter(
      (r) => ((TracePacketType.decode(r.body) as Msg).sequence_flags ?? 0) & 1,
    );
    assert.ok(flags.length > 10, `${flags.length} clears`);
  });

  it('source locations from VizTracer and ring-dump names, interned once per sequence', async () => {
    const d = await writeAndDecode('locs', [
      { ph: 'X', name: 'fib (/src/fib.py:12)', ts: 1, dur: 5, pid: 1, tid: 1 },
      { ph: 'X', name: 'fib (/src/fib.py:12)', ts: 2, dur: 1, pid: 1, tid: 1 },
      { ph: 'X', name: 'run (C:\\app\\main.js:7:3)', ts: 10, dur: 1, pid: 1, tid: 1 },
      { ph: 'X', name: 'builtins.print', ts: 20, dur: 1, pid: 1, tid: 1 },
    ]);
    assert.deepEqual(
      d.locs.map((l) => [l.function_name, l.file_name, l.line_number]),
      [
        ['fib', '/src/fib.py', 12],
        ['run', 'C:\\app\\main.js', 7],
      ],
    );
    const begins = d.events.filter((e) => e.type === 1);
    assert.deepEqual(
      begins.map((e) => Boolean(e.te.source_location_iid)),
      [true, true, true, false],
    );
    assert.equal(begins[0]!.name, 'fib (/src/fib.py:12)');
  });

  it('unclosed and force-closed slices end where viz closed them, flagged viz.end_reason', async () => {
    const d = await writeAndDecode('unclosed', [
      { ph: 'B', name: 'outer', ts: 1, pid: 1, tid: 1 },
      { ph: 'X', name: 'x', ts: 2, dur: 10, pid: 1, tid: 1 },
      { ph: 'B', name: 'inner', ts: 3, pid: 1, tid: 1 },
      { ph: 'i', name: 'late', ts: 20, pid: 1, tid: 1 },
    ]);
    const ends = d.events
      .filter((e) => e.type === 2)
      .map((e) => e.ann['viz.end_reason']?.string_value ?? 'end');
    assert.deepEqual(ends, ['forced', 'end', 'unclosed']);
    for (const e of d.events.filter((e) => e.type === 2)) assert.equal(e.te.name_iid, undefined);
  });
});

describe('Perfetto writer: the encoded-args cache turns itself off when args do not repeat', () => {
  const { TRIAL, PAUSE } = CacheThrottle;
  function uses(t: CacheThrottle, n: number, hitEvery: number): number {
    let on = 0;
    for (let i = 0; i < n; i++) {
      if (!t.use()) continue;
      on++;
      if (hitEvery > 0 && on % hitEvery === 0) t.hits++;
    }
    return on;
  }

  it('stays on while a quarter or more of the lookups hit', () => {
    const t = new CacheThrottle();
    assert.equal(uses(t, 10 * TRIAL, 3), 10 * TRIAL);
  });

  it('pauses after a window with fewer hits, then tries again', () => {
    const t = new CacheThrottle();
    assert.equal(uses(t, TRIAL, 0), TRIAL);
    assert.equal(uses(t, PAUSE, 0), 0, 'paused');
    assert.equal(uses(t, TRIAL - 1, 0), TRIAL - 1, 'on again after the pause');
  });
});
