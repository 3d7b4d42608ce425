import assert from 'node:assert/strict';
import { validatePerfetto } from '../../support/perfetto-validator.js';
import { frame } from './helpers.js';

// A minimal valid trace: process + thread descriptors, interned BEGIN/END on sequence 1.
const PROC = {
  trusted_packet_sequence_id: 1,
  sequence_flags: 1,
  track_descriptor: { uuid: 10, process: { pid: 1 } },
};
const THREAD = { trusted_packet_sequence_id: 1, track_descriptor: { uuid: 11, thread: { pid: 1, tid: 2 } } };
const COUNTER = {
  trusted_packet_sequence_id: 1,
  track_descriptor: { uuid: 12, parent_uuid: 10, name: 'mem.rss', counter: {} },
};
const begin = (ts: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  timestamp: ts,
  trusted_packet_sequence_id: 1,
  sequence_flags: 2,
  interned_data: { event_names: [{ iid: 1, name: 'a' }] },
  track_event: { type: 1, track_uuid: 11, name_iid: 1 },
  ...extra,
});
const end = (ts: number): Record<string, unknown> => ({
  timestamp: ts,
  trusted_packet_sequence_id: 1,
  track_event: { type: 2, track_uuid: 11 },
});

function rules(packets: Record<string, unknown>[]): Record<string, number> {
  return validatePerfetto(frame(packets)).byRule;
}

describe('Perfetto validator catches each kind of violation', () => {
  it('accepts the valid baseline', () => {
    assert.deepEqual(rules([PROC, THREAD, COUNTER, begin(5), end(6)]), {});
  });

  it('missing sequence id', () => {
    const bad = { ...end(6), trusted_packet_sequence_id: undefined };
    delete bad.trusted_packet_sequence_id;
    assert.ok(rules([PROC, THREAD, begin(5), bad]).sequence_id);
  });

  it('iids used before the sequence cleared its incremental state', () => {
    const proc = { ...PROC, sequence_flags: 0 };
    assert.ok(rules([proc, THREAD, begin(5), end(6)]).incremental_state);
  });

  it('iids used without SEQ_NEEDS_INCREMENTAL_STATE', () => {
    assert.ok(rules([PROC, THREAD, begin(5, { sequence_flags: 0 }), end(6)]).incremental_state);
  });

  it('an iid that was never defined on its sequence', () => {
    assert.ok(
      rules([PROC, THREAD, begin(5, { interned_data: { event_names: [{ iid: 2, name: 'x' }] } }), end(6)])
        .iid_undefined,
    );
  });

  it('an iid defined on another sequence', () => {
    const other = {
      trusted_packet_sequence_id: 2,
      sequence_flags: 1,
      track_descriptor: { uuid: 13, name: 'x' },
    };
    const use = { ...begin(5), trusted_packet_sequence_id: 2, interned_data: undefined };
    delete use.interned_data;
    assert.ok(
      rules([PROC, THREAD, begin(4), end(4), other, use, { ...end(6), trusted_packet_sequence_id: 2 }])
        .iid_undefined,
    );
  });

  it('a track uuid without a descriptor', () => {
    assert.ok(rules([PROC, begin(5), end(6)]).track_undescribed);
  });

  it('unbalanced begin/end on a track: END without BEGIN, BEGIN without END', () => {
    assert.equal(rules([PROC, THREAD, begin(5), end(6), end(7)]).unbalanced, 1);
    assert.equal(rules([PROC, THREAD, begin(5)]).unbalanced, 1);
  });

  it('begin/end balanced in file order but not in time order (trace_processor sorts first)', () => {
    const endOnSeq2 = { ...end(4), trusted_packet_sequence_id: 2, sequence_flags: 1 };
    assert.ok(rules([PROC, THREAD, begin(5), endOnSeq2]).unbalanced);
  });

  it('warns about a flow with one endpoint', () => {
    const report = validatePerfetto(
      frame([
        PROC,
        THREAD,
        begin(5, { track_event: { type: 1, track_uuid: 11, name_iid: 1, flow_ids: [7] } }),
        end(6),
      ]),
    );
    assert.deepEqual(report.violations, []);
    assert.equal(report.warnings.length, 1);
  });

  it('decreasing timestamps on one sequence', () => {
    assert.ok(rules([PROC, THREAD, begin(5), end(4)]).timestamp_order);
  });

  it('counter values on a non-counter track and slices on a counter track', () => {
    const onThread = {
      timestamp: 5,
      trusted_packet_sequence_id: 1,
      track_event: { type: 4, track_uuid: 11, counter_value: 3 },
    };
    assert.ok(rules([PROC, THREAD, COUNTER, onThread]).counter_track);
    const sliceOnCounter = begin(5, { track_event: { type: 1, track_uuid: 12, name_iid: 1 } });
    assert.ok(
      rules([PROC, THREAD, COUNTER, sliceOnCounter, { ...end(6), track_event: { type: 2, track_uuid: 12 } }])
        .counter_track,
    );
  });

  it('a counter event without a value, an event without type or timestamp', () => {
    assert.ok(
      rules([
        PROC,
        COUNTER,
        { timestamp: 5, trusted_packet_sequence_id: 1, track_event: { type: 4, track_uuid: 12 } },
      ]).counter_value,
    );
    assert.ok(
      rules([
        PROC,
        THREAD,
        { timestamp: 5, trusted_packet_sequence_id: 1, track_event: { track_uuid: 11, name: 'x' } },
      ]).event_type,
    );
    assert.ok(
      rules([
        PROC,
        THREAD,
        { trusted_packet_sequence_id: 1, track_event: { type: 3, track_uuid: 11, name: 'x' } },
      ]).timestamp_missing,
    );
  });

  it('a thread descriptor without tid, and two uuids for one thread', () => {
    assert.ok(
      rules([PROC, { trusted_packet_sequence_id: 1, track_descriptor: { uuid: 11, thread: { pid: 1 } } }])
        .descriptor,
    );
    assert.ok(
      rules([
        PROC,
        THREAD,
        { trusted_packet_sequence_id: 1, track_descriptor: { uuid: 99, thread: { pid: 1, tid: 2 } } },
      ]).descriptor_duplicate_identity,
    );
  });

  it('a re-emitted descriptor of a different kind', () => {
    assert.ok(
      rules([
        PROC,
        THREAD,
        { trusted_packet_sequence_id: 1, track_descriptor: { uuid: 11, name: 'x', counter: {} } },
      ]).descriptor_conflict,
    );
  });

  it('nesting deeper than 512 on one track', () => {
    const packets: Record<string, unknown>[] = [PROC, THREAD];
    for (let i = 0; i < 513; i++) packets.push(begin(5));
    for (let i = 0; i < 513; i++) packets.push(end(6));
    assert.equal(rules(packets).depth, 1);
  });

  it('an END that carries a name', () => {
    assert.ok(
      rules([PROC, THREAD, begin(5), { ...end(6), track_event: { type: 2, track_uuid: 11, name: 'a' } }])
        .end_named,
    );
  });

  it('broken framing', () => {
    const bytes = frame([PROC, THREAD]);
    assert.ok(validatePerfetto(bytes.subarray(0, bytes.length - 2)).byRule.framing);
  });
});
