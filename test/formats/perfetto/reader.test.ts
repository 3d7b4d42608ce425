import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readPerfetto, sniffPerfetto } from '../../../src/formats/perfetto/reader.js';
import { detectFormat } from '../../../src/formats/registry.js';
import { openInput } from '../../../src/io/input.js';
import { VizError } from '../../../src/model/errors.js';
import type { TraceEvent } from '../../../src/model/event.js';
import { info } from '../../../src/ops/info.js';
import { readAll } from '../../support/fixtures.js';
import { convertTo, frame, tmp } from './helpers.js';

async function readBytes(
  name: string,
  bytes: Buffer,
): Promise<{ events: TraceEvent[]; source: ReturnType<typeof readPerfetto> }> {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  const source = readPerfetto(await openInput(path));
  return { events: await readAll(source), source };
}

/** A trace shaped like the Perfetto SDK writes it: interning, defaults, several sequences. */
const SDK_TRACE = (): Buffer =>
  frame([
    {
      trusted_packet_sequence_id: 7,
      sequence_flags: 1,
      track_descriptor: { uuid: 100, process: { pid: 42, process_name: 'app' } },
    },
    {
      trusted_packet_sequence_id: 7,
      track_descriptor: { uuid: 101, parent_uuid: 100, thread: { pid: 42, tid: 43, thread_name: 'main' } },
    },
    {
      trusted_packet_sequence_id: 7,
      track_descriptor: { uuid: 102, parent_uuid: 100, name: 'queue depth', counter: {} },
    },
    {
      trusted_packet_sequence_id: 7,
      sequence_flags: 3,
      trace_packet_defaults: { track_event_defaults: { track_uuid: 101 } },
      interned_data: {
        event_names: [{ iid: 1, name: 'DoWork' }],
        event_categories: [
          { iid: 1, name: 'cat1' },
          { iid: 2, name: 'cat2' },
        ],
        debug_annotation_names: [{ iid: 1, name: 'count' }],
      },
      timestamp: 2_000_000_000_000_123,
      track_event: {
        type: 1,
        name_iid: 1,
        category_iids: [1, 2],
        debug_annotations: [
          { name_iid: 1, int_value: -3 },
          { name: 'ok', bool_value: true },
          { name: 'ratio', double_value: 0.5 },
          { name: 'big', uint_value: 12345678901 },
          {
            name: 'nested',
            dict_entries: [{ name: 'list', array_values: [{ string_value: 'a' }, { int_value: 1 }] }],
          },
        ],
        flow_ids: [0xfeed],
      },
    },
    {
      trusted_packet_sequence_id: 7,
      sequence_flags: 2,
      timestamp: 2_000_000_000_000_200,
      track_event: { type: 3, name: 'mark' },
    },
    {
      trusted_packet_sequence_id: 7,
      sequence_flags: 2,
      timestamp: 2_000_000_000_000_300,
      track_event: { type: 4, track_uuid: 102, counter_value: 5 },
    },
    {
      trusted_packet_sequence_id: 7,
      sequence_flags: 2,
      timestamp: 2_000_000_000_000_400,
      track_event: { type: 2 },
    },
  ]);

describe('Perfetto reader', () => {
  it('sniffs Perfetto content and nothing else', () => {
    assert.equal(sniffPerfetto(SDK_TRACE()), true);
    assert.equal(sniffPerfetto(Buffer.from('{"traceEvents":[]}')), false);
    assert.equal(sniffPerfetto(Buffer.from([0x0a, 0x05, 0xf8, 0x07, 0x01])), false); // field 255
    assert.equal(sniffPerfetto(Buffer.from([0x0a])), false);
    // Another protobuf message whose field 1 is a string: "\n\x05hello" parses as field 13, then group end.
    assert.equal(sniffPerfetto(Buffer.from('\n\x05hello\x10\x01', 'latin1')), false);
    assert.equal(sniffPerfetto(Buffer.from('\n\x0bhello world', 'latin1')), false);
  });

  it('reads an SDK-style trace: interning, defaults, descriptors, counters, instants, flows, typed args', async () => {
    const { events, source } = await readBytes('sdk.pftrace', SDK_TRACE());
    const byPh = (ph: string): TraceEvent[] => events.filter((e) => e.ph === ph);
    assert.equal(source.meta.processNames.get(42), 'app');
    assert.equal(source.meta.threadNames.get('number:42/number:43'), 'main');
    const [b] = byPh('B');
    assert.ok(b);
    assert.equal(b.name, 'DoWork');
    assert.equal(b.cat, 'cat1,cat2');
    assert.equal(b.pid, 42);
    assert.equal(b.tid, 43);
    assert.equal(BigInt(source.meta.baseUs) * 1000n + BigInt(b.ts), 2_000_000_000_000_123n);
    assert.deepEqual(JSON.parse(b.args), {
      count: -3,
      ok: true,
      ratio: 0.5,
      big: 12345678901,
      nested: { list: ['a', 1] },
    });
    assert.equal(b.extra?.bind_id, '"0xfeed"');
    assert.equal(b.extra?.flow_out, 'true');
    const [i] = byPh('i');
    assert.equal(i?.name, 'mark');
    assert.equal(i?.tid, 43, 'instant on the default track (the thread)');
    const [c] = byPh('C');
    assert.equal(c?.name, 'queue depth');
    assert.deepEqual(JSON.parse(c!.args), { value: 5 });
    const [e] = byPh('E');
    assert.equal(e!.ts - b.ts, 277);
    assert.equal(source.diagnostics.count(), 0);
  });

  it('resolves timestamps on a sequence-scoped incremental clock (SDK style) through its ClockSnapshot', async () => {
    const bytes = frame([
      {
        trusted_packet_sequence_id: 3,
        sequence_flags: 1,
        clock_snapshot: {
          clocks: [
            { clock_id: 6, timestamp: 5_000_000 },
            { clock_id: 64, timestamp: 1000, is_incremental: true, unit_multiplier_ns: 1000 },
          ],
        },
      },
      {
        trusted_packet_sequence_id: 3,
        sequence_flags: 2,
        trace_packet_defaults: { timestamp_clock_id: 64 },
        track_descriptor: { uuid: 9, thread: { pid: 1, tid: 1 } },
      },
      {
        trusted_packet_sequence_id: 3,
        sequence_flags: 2,
        timestamp: 2,
        track_event: { type: 1, track_uuid: 9, name: 'a' },
      },
      {
        trusted_packet_sequence_id: 3,
        sequence_flags: 2,
        timestamp: 3,
        track_event: { type: 2, track_uuid: 9 },
      },
      // A builtin clock without any snapshot: skipped with clock_sync_failure.
      {
        trusted_packet_sequence_id: 4,
        timestamp: 7,
        timestamp_clock_id: 3,
        track_event: { type: 3, track_uuid: 9, name: 'x' },
      },
    ]);
    const { events, source } = await readBytes('clock.pftrace', bytes);
    const abs = (e: TraceEvent): bigint => BigInt(source.meta.baseUs) * 1000n + BigInt(e.ts);
    const b = events.find((e) => e.ph === 'B')!;
    const e = events.find((e) => e.ph === 'E')!;
    // clock 64 = 1000 units at trace time 5 ms; +2 units of 1 us, then +3 more.
    assert.equal(abs(b), 5_002_000n);
    assert.equal(abs(e), 5_005_000n);
    assert.equal(events.filter((e) => e.ph === 'i').length, 0);
    assert.equal(source.diagnostics.get('clock_sync_failure')?.count, 1);
  });

  it('skips packets that need incremental state the sequence never cleared (data_loss)', async () => {
    const bytes = frame([
      { trusted_packet_sequence_id: 1, track_descriptor: { uuid: 5, thread: { pid: 1, tid: 1 } } },
      {
        trusted_packet_sequence_id: 1,
        sequence_flags: 2,
        timestamp: 10,
        interned_data: { event_names: [{ iid: 1, name: 'x' }] },
        track_event: { type: 3, track_uuid: 5, name_iid: 1 },
      },
    ]);
    const { events, source } = await readBytes('noclear.pftrace', bytes);
    assert.equal(events.filter((e) => e.ph === 'i').length, 0);
    assert.equal(source.diagnostics.get('packet_skipped_incremental_state_invalid')?.severity, 'data_loss');
  });

  it('a truncated file yields every complete packet and a truncated_input diagnostic', async () => {
    const full = SDK_TRACE();
    const cut = full.subarray(0, full.length - 3);
    const { events, source } = await readBytes('cut.pftrace', cut);
    assert.equal(events.filter((e) => e.ph === 'E').length, 0);
    assert.equal(events.filter((e) => e.ph === 'C').length, 1);
    const d = source.diagnostics.get('truncated_input');
    assert.equal(d?.severity, 'data_loss');
    assert.match(d!.message, /byte \d+/);
  });

  it('garbage gives a one-line VizError with the byte offset', async () => {
    const good = SDK_TRACE();
    const bad = Buffer.concat([good, Buffer.from('garbage here')]);
    await assert.rejects(readBytes('garbage.pftrace', bad), (err: unknown) => {
      assert.ok(err instanceof VizError);
      assert.match(err.message, new RegExp(`byte ${good.length}: not a Perfetto trace record`));
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  });

  it('reads gzip-compressed traces through Input and detects them by content', async () => {
    const path = join(tmp, 'gz.pftrace.gz');
    writeFileSync(path, gzipSync(SDK_TRACE()));
    const input = await openInput(path);
    assert.equal(detectFormat(input).name, 'perfetto');
    const events = await readAll(readPerfetto(input));
    assert.equal(events.filter((e) => e.ph === 'B').length, 1);
  });

  it('.pb counts only when the content agrees', async () => {
    const pb = join(tmp, 'x.pb');
    writeFileSync(pb, SDK_TRACE());
    assert.equal(detectFormat(await openInput(pb)).name, 'perfetto');
    const other = join(tmp, 'other.pb');
    writeFileSync(other, Buffer.from([0x08, 0x96, 0x01])); // some other protobuf message
    await assert.rejects(async () => detectFormat(await openInput(other)), /unknown format/);
  });

  it('viz info understands Perfetto files', async () => {
    const path = join(tmp, 'info.pftrace');
    writeFileSync(path, SDK_TRACE());
    const report = await info(path, { progress: false });
    assert.equal(report.format, 'perfetto');
    assert.ok(report.events >= 4);
    assert.equal(report.processes.find((p) => p.pid === 42)?.name, 'app');
  });

  it('converts a viz-written Perfetto trace back to Chrome slices as B/E pairs', async () => {
    const src = join(tmp, 'x.json');
    writeFileSync(src, JSON.stringify([{ ph: 'X', name: 'a', ts: 1, dur: 2, pid: 1, tid: 1 }]));
    const pf = await convertTo(src, 'perfetto', 'x.pftrace');
    const back = await convertTo(pf.path, 'chrome', 'x.back.json');
    const events = (
      JSON.parse((await import('node:fs')).readFileSync(back.path, 'utf8')) as {
        traceEvents: { ph: string }[];
      }
    ).traceEvents;
    assert.deepEqual(
      events.map((e) => e.ph),
      ['B', 'E'],
    );
  });
});
