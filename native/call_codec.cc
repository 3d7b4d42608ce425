// Bulk loops of the ring dump -> Perfetto path, over the column arrays of a
// CallRun (src/model/source.ts). Each does the common case only and returns
// where it stopped; the JavaScript around it (src/formats/ring/reader.ts,
// src/formats/perfetto/writer.ts) handles that entry with its own general code
// and calls again, so there is one set of rules, and without the addon the
// JavaScript does everything with the same results (the tests compare both).
// Arithmetic is in doubles, step by step as the JavaScript does it, so
// timestamps come out bit-identical.
#include <node_api.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "call_codec.h"
#include "napi_args.h"

namespace viz {
namespace {

constexpr uint8_t kCallEnter = 1;  // CALL_ENTER
constexpr uint8_t kCallExit = 2;   // CALL_EXIT
constexpr uint32_t kRecordEnter = 1;
constexpr uint32_t kRecordExit = 2;
constexpr double kTwo32 = 4294967296.0;
constexpr size_t kTailStride = 32;  // TAIL_STRIDE in writer.ts
constexpr size_t kMaxPacket = 64;   // room a fixed packet may need

napi_value Number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

// JavaScript's Math.round: the nearest integer, halves towards +infinity.
inline double JsRound(double x) {
  double r = floor(x);
  return x - r >= 0.5 ? r + 1 : r;
}

// encodeCalls(kind, frame, ts, from, count, tails, endTail, upperBytes, state, out) -> index
//
// Writes the fixed packet (PerfettoEncoder.fixedPacket) of entries from..count-1 into `out` and
// returns the first entry it did not write: one that needs the JavaScript (a frame with no tail
// yet, an unclosed exit, depth at the limit, a timestamp whose upper bits differ from the cached
// `upperBytes`, or less than kMaxPacket bytes left in `out`).
// state (Float64Array): [0] out position (in/out), [1] call depth (in/out), [2] depth limit,
// [3] base ns high 32 bits, [4] base ns low 32 bits, [5] cached upper bits, [6] max ts (in/out).
// tails: kTailStride bytes per frame id, a length byte (0: none) then the packet tail.
napi_value EncodeCalls(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  if (!Args(env, info, 10, argv, "encodeCalls: 10 arguments expected")) return nullptr;
  Span<uint8_t> kind, tails, end_tail, upper_bytes, out;
  Span<uint32_t> frame;
  Span<double> ts, state;
  double from_d, count_d;
  if (!TypedArg(env, argv[0], napi_uint8_array, &kind) ||
      !TypedArg(env, argv[1], napi_uint32_array, &frame) ||
      !TypedArg(env, argv[2], napi_float64_array, &ts) || !NumberArg(env, argv[3], &from_d) ||
      !NumberArg(env, argv[4], &count_d) || !TypedArg(env, argv[5], napi_uint8_array, &tails) ||
      !TypedArg(env, argv[6], napi_uint8_array, &end_tail) ||
      !TypedArg(env, argv[7], napi_uint8_array, &upper_bytes) ||
      !TypedArg(env, argv[8], napi_float64_array, &state) ||
      !TypedArg(env, argv[9], napi_uint8_array, &out)) {
    return nullptr;
  }
  if (state.length < 7) {
    napi_throw_range_error(env, nullptr, "encodeCalls: state needs 7 slots");
    return nullptr;
  }
  size_t count = size_t(count_d);
  if (count > kind.length || count > frame.length || count > ts.length) count = 0;
  size_t i = size_t(from_d);
  size_t pos = size_t(state.data[0]);
  double depth = state.data[1];
  const double max_depth = state.data[2];
  const double base_hi = state.data[3];
  const double base_lo = state.data[4];
  const double cached_upper = state.data[5];
  double max_ts = state.data[6];
  uint8_t* b = out.data;
  for (; i < count; i++) {
    if (pos + kMaxPacket > out.length) break;
    const uint8_t k = kind.data[i];
    const uint8_t* tail;
    size_t tail_length;
    if (k == kCallEnter) {
      if (depth >= max_depth) break;
      size_t at = size_t(frame.data[i]) * kTailStride;
      if (at >= tails.length || tails.data[at] == 0) break;
      tail = tails.data + at + 1;
      tail_length = tails.data[at];
    } else if (k == kCallExit) {
      if (depth - 1 >= max_depth) break;
      tail = end_tail.data;
      tail_length = end_tail.length;
    } else {
      break;
    }
    // PerfettoEncoder.usualTimestamp
    const double t = ts.data[i];
    if (!isfinite(t)) break;
    const double sum = base_lo + t;
    const double carry = floor(sum / kTwo32);
    const double hi = base_hi + carry;
    const uint32_t lo = uint32_t(int64_t(sum - carry * kTwo32));
    const double upper = hi * 16 + double(lo >> 28);
    if (!(hi >= 0) || upper == 0 || upper != cached_upper) break;
    if (t > max_ts) max_ts = t;
    size_t p = pos;
    b[p] = 0x0a;      // Trace.packet, length-delimited; the length byte follows
    b[p + 2] = 0x40;  // TracePacket.timestamp, varint
    b[p + 3] = uint8_t((lo & 0x7f) | 0x80);
    b[p + 4] = uint8_t(((lo >> 7) & 0x7f) | 0x80);
    b[p + 5] = uint8_t(((lo >> 14) & 0x7f) | 0x80);
    b[p + 6] = uint8_t(((lo >> 21) & 0x7f) | 0x80);
    p += 7;
    memcpy(b + p, upper_bytes.data, upper_bytes.length);
    p += upper_bytes.length;
    memcpy(b + p, tail, tail_length);
    p += tail_length;
    b[pos + 1] = uint8_t(p - pos - 2);
    pos = p;
    depth += k == kCallEnter ? 1 : -1;
  }
  state.data[0] = double(pos);
  state.data[1] = depth;
  state.data[6] = max_ts;
  return Number(env, double(i));
}

// decodeCalls(records, clock, stack, state, kind, frame, ts) -> undefined
//
// The loop of RingDumpReader.callRuns over the 16-byte records of a ring that holds only enters
// and exits: each record's time in ns, the stack of open frames, exits with nothing open counted
// as orphans. Stops at the end of `records`, when the output columns are full, when the stack is
// full, or at an exit that is not the innermost open frame's (the reader's unbalancedExit).
// clock (Float64Array): ticks start high/low 32 bits, ns per tick, start offset ns.
// state (Float64Array): [0] record index (in/out), [1] stack depth (in/out), [2] orphans (in/out),
// [3] entries in the columns (in/out), [4] last ts (out, when a record was read), [5] the most
// entries the columns may hold.
napi_value DecodeCalls(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!Args(env, info, 7, argv, "decodeCalls: 7 arguments expected")) return nullptr;
  Span<uint32_t> records, stack, frame;
  Span<double> clock, state, ts;
  Span<uint8_t> kind;
  if (!TypedArg(env, argv[0], napi_uint32_array, &records) ||
      !TypedArg(env, argv[1], napi_float64_array, &clock) ||
      !TypedArg(env, argv[2], napi_uint32_array, &stack) ||
      !TypedArg(env, argv[3], napi_float64_array, &state) ||
      !TypedArg(env, argv[4], napi_uint8_array, &kind) ||
      !TypedArg(env, argv[5], napi_uint32_array, &frame) ||
      !TypedArg(env, argv[6], napi_float64_array, &ts)) {
    return nullptr;
  }
  if (clock.length < 4 || state.length < 6) {
    napi_throw_range_error(env, nullptr, "decodeCalls: clock needs 4 slots, state 6");
    return nullptr;
  }
  const double start_hi = clock.data[0];
  const double start_lo = clock.data[1];
  const double slope = clock.data[2];
  const double start_offset = clock.data[3];
  const size_t n_records = records.length / 4;
  const size_t capacity = kind.length < frame.length ? kind.length : frame.length;
  size_t cap = capacity < ts.length ? capacity : ts.length;
  if (state.data[5] < double(cap)) cap = size_t(state.data[5]);
  size_t r = size_t(state.data[0]);
  size_t depth = size_t(state.data[1]);
  double orphans = state.data[2];
  size_t n = size_t(state.data[3]);
  double last_ts = state.data[4];
  const uint32_t* u32 = records.data;
  for (; r < n_records && n < cap; r++) {
    const uint32_t* rec = u32 + 4 * r;
    const uint32_t a = rec[2];
    const uint32_t k = rec[3] & 0xff;
    if (k == kRecordEnter) {
      if (depth == stack.length) break;
    } else if (k == kRecordExit) {
      if (depth > 0 && stack.data[depth - 1] != a) break;
    } else {
      break;  // not a call: the reader checked there are none; let it say so
    }
    const double t =
        start_offset +
        JsRound(((double(rec[1]) - start_hi) * kTwo32 + (double(rec[0]) - start_lo)) * slope);
    last_ts = t;
    if (k == kRecordEnter) {
      stack.data[depth++] = a;
      kind.data[n] = kCallEnter;
    } else if (depth > 0) {
      depth--;
      kind.data[n] = kCallExit;
    } else {
      orphans++;
      continue;
    }
    frame.data[n] = a;
    ts.data[n] = t;
    n++;
  }
  state.data[0] = double(r);
  state.data[1] = double(depth);
  state.data[2] = orphans;
  state.data[3] = double(n);
  state.data[4] = last_ts;
  return nullptr;
}

// callsInOrder(records, last) -> boolean
//
// Whether every record is an enter or an exit, with times that never go back (RingDumpReader's
// check before it takes the columns path). last (Float64Array): the previous record's ticks,
// high and low 32 bits (in/out), so a ring read in chunks is checked as one.
napi_value CallsInOrder(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!Args(env, info, 2, argv, "callsInOrder: 2 arguments expected")) return nullptr;
  Span<uint32_t> records;
  Span<double> last;
  if (!TypedArg(env, argv[0], napi_uint32_array, &records) ||
      !TypedArg(env, argv[1], napi_float64_array, &last)) {
    return nullptr;
  }
  if (last.length < 2) {
    napi_throw_range_error(env, nullptr, "callsInOrder: last needs 2 slots");
    return nullptr;
  }
  uint64_t previous = (uint64_t(last.data[0]) << 32) | uint64_t(last.data[1]);
  bool ok = true;
  const size_t n = records.length / 4;
  for (size_t r = 0; r < n; r++) {
    const uint32_t* rec = records.data + 4 * r;
    const uint32_t kind = rec[3] & 0xff;
    const uint64_t ticks = (uint64_t(rec[1]) << 32) | rec[0];
    if ((kind != kRecordEnter && kind != kRecordExit) || ticks < previous) {
      ok = false;
      break;
    }
    previous = ticks;
  }
  last.data[0] = double(previous >> 32);
  last.data[1] = double(previous & 0xffffffffu);
  napi_value out;
  napi_get_boolean(env, ok, &out);
  return out;
}

}  // namespace

void RegisterCallCodec(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "encodeCalls", NAPI_AUTO_LENGTH, EncodeCalls, nullptr, &fn);
  napi_set_named_property(env, exports, "encodeCalls", fn);
  napi_create_function(env, "decodeCalls", NAPI_AUTO_LENGTH, DecodeCalls, nullptr, &fn);
  napi_set_named_property(env, exports, "decodeCalls", fn);
  napi_create_function(env, "callsInOrder", NAPI_AUTO_LENGTH, CallsInOrder, nullptr, &fn);
  napi_set_named_property(env, exports, "callsInOrder", fn);
}

}  // namespace viz
