// JS bindings of the recorder. Control functions and the portable per-event
// functions use plain N-API (integers only); when built against a known V8
// (VIZ_FAST_API=1), enter/exit/instant/value are also V8 fast API calls,
// which optimized JS calls directly, without the N-API callback machinery.
#include <node_api.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "call_codec.h"
#include "deflate.h"
#include "recorder.h"

#ifndef VIZ_FAST_API
#define VIZ_FAST_API 0
#endif

#if VIZ_FAST_API
#include <node_version.h>
#include <v8.h>

#include "fast_api_abi.h"
#if !VIZ_FAST_API_ABI
#undef VIZ_FAST_API
#define VIZ_FAST_API 0
#endif
#endif

namespace viz {
namespace {

inline uint32_t Kind(RecordKind kind, uint32_t aux = 0) { return uint32_t(kind) | (aux << 8); }

// ------------------------------------------------ per-event, plain N-API

// Reads up to 3 int32 arguments (missing or non-numeric ones are 0).
inline bool ArgInt32(napi_env env, napi_callback_info info, size_t count, int32_t* out) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return false;
  for (size_t i = 0; i < count; i++) {
    if (i >= argc || napi_get_value_int32(env, argv[i], &out[i]) != napi_ok) out[i] = 0;
  }
  return true;
}

// Calls (enter, exit, async spans) are what stop() pauses.
template <RecordKind kind>
constexpr bool kPausable = kind == kEnter || kind == kExit;

inline bool Paused() { return g_paused.load(std::memory_order_relaxed); }

template <RecordKind kind>
napi_value NapiFrameEvent(napi_env env, napi_callback_info info) {
  ThreadRing* ring = tls_ring;
  int32_t args[1];
  if (kPausable<kind> && Paused()) return nullptr;
  if (ring && ArgInt32(env, info, 1, args)) Append(ring, uint32_t(args[0]), Kind(kind));
  return nullptr;
}

napi_value NapiValue(napi_env env, napi_callback_info info) {
  ThreadRing* ring = tls_ring;
  int32_t args[2];
  if (ring && ArgInt32(env, info, 2, args))
    Append(ring, uint32_t(args[1]), Kind(kValue, uint32_t(args[0]) & 0xFFFFFF));
  return nullptr;
}

// Async spans: begin hands out the next span id of this thread (from 1) and records it;
// end records the id it is given. a = span id, aux = frame id.
inline int32_t SpanBegin(ThreadRing* ring, uint32_t frame) {
  if (Paused()) return 0;
  uint32_t span = ++ring->next_span & 0x7FFFFFFF;
  if (span == 0) span = ring->next_span = 1;
  Append(ring, span, Kind(kAsyncBegin, frame & 0xFFFFFF));
  return int32_t(span);
}

napi_value NapiAsyncBegin(napi_env env, napi_callback_info info) {
  ThreadRing* ring = tls_ring;
  int32_t args[1];
  int32_t span = 0;
  if (ring && ArgInt32(env, info, 1, args)) span = SpanBegin(ring, uint32_t(args[0]));
  napi_value out;
  napi_create_int32(env, span, &out);
  return out;
}

napi_value NapiAsyncEnd(napi_env env, napi_callback_info info) {
  ThreadRing* ring = tls_ring;
  int32_t args[2];
  if (ring && ArgInt32(env, info, 2, args) && args[1] != 0)
    Append(ring, uint32_t(args[1]), Kind(kAsyncEnd, uint32_t(args[0]) & 0xFFFFFF));
  return nullptr;
}

// ------------------------------------------------ per-event, V8 fast API

#if VIZ_FAST_API
template <RecordKind kind>
void FastFrameEvent(v8::Local<v8::Object> /*receiver*/, int32_t frame) {
  ThreadRing* ring = tls_ring;
  if (!ring || (kPausable<kind> && Paused())) return;
  Append(ring, uint32_t(frame), Kind(kind));
  ring->fast_calls++;
}

void FastValue(v8::Local<v8::Object> /*receiver*/, int32_t name, int32_t value) {
  ThreadRing* ring = tls_ring;
  if (!ring) return;
  Append(ring, uint32_t(value), Kind(kValue, uint32_t(name) & 0xFFFFFF));
  ring->fast_calls++;
}

int32_t FastAsyncBegin(v8::Local<v8::Object> /*receiver*/, int32_t frame) {
  ThreadRing* ring = tls_ring;
  if (!ring) return 0;
  ring->fast_calls++;
  return SpanBegin(ring, uint32_t(frame));
}

void FastAsyncEnd(v8::Local<v8::Object> /*receiver*/, int32_t frame, int32_t span) {
  ThreadRing* ring = tls_ring;
  if (!ring || span == 0) return;
  Append(ring, uint32_t(span), Kind(kAsyncEnd, uint32_t(frame) & 0xFFFFFF));
  ring->fast_calls++;
}

int32_t V8Int32(const v8::FunctionCallbackInfo<v8::Value>& info, int i) {
  v8::Local<v8::Value> v = info[i];
  if (v->IsInt32()) return v.As<v8::Int32>()->Value();
  return v->Int32Value(info.GetIsolate()->GetCurrentContext()).FromMaybe(0);
}

// The fallback V8 uses when the caller is not optimized (interpreter,
// baseline): still cheaper than N-API since it skips napi_env bookkeeping.
template <RecordKind kind>
void SlowFrameEvent(const v8::FunctionCallbackInfo<v8::Value>& info) {
  ThreadRing* ring = tls_ring;
  if (ring && !(kPausable<kind> && Paused())) Append(ring, uint32_t(V8Int32(info, 0)), Kind(kind));
}

void SlowValue(const v8::FunctionCallbackInfo<v8::Value>& info) {
  ThreadRing* ring = tls_ring;
  if (ring)
    Append(ring, uint32_t(V8Int32(info, 1)), Kind(kValue, uint32_t(V8Int32(info, 0)) & 0xFFFFFF));
}

void SlowAsyncBegin(const v8::FunctionCallbackInfo<v8::Value>& info) {
  ThreadRing* ring = tls_ring;
  int32_t span = ring ? SpanBegin(ring, uint32_t(V8Int32(info, 0))) : 0;
  info.GetReturnValue().Set(span);
}

void SlowAsyncEnd(const v8::FunctionCallbackInfo<v8::Value>& info) {
  ThreadRing* ring = tls_ring;
  int32_t span = V8Int32(info, 1);
  if (ring && span != 0)
    Append(ring, uint32_t(span), Kind(kAsyncEnd, uint32_t(V8Int32(info, 0)) & 0xFFFFFF));
}

using T = v8::CTypeInfo;
const T kVoid(T::Type::kVoid);
const T kInt32Ret(T::Type::kInt32);
const T kFrameArgs[] = {T(T::Type::kV8Value), T(T::Type::kInt32)};
const T kValueArgs[] = {T(T::Type::kV8Value), T(T::Type::kInt32), T(T::Type::kInt32)};

// V8's C++ ABI changes between Node majors. The addon is loaded with lazy
// binding, so V8 symbols are only resolved when first called: checking the
// running Node before any V8 call turns a mismatched build (e.g. build/Release
// from another Node) into the N-API path instead of a fatal symbol error.
bool FastApiUsable(napi_env env) {
  const napi_node_version* version = nullptr;
  return napi_get_node_version(env, &version) == napi_ok && version->major == NODE_MAJOR_VERSION;
}

bool SetFastFunction(napi_env env, napi_value exports, const char* name, v8::FunctionCallback slow,
                     const v8::CFunction* fast, int length) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::FunctionTemplate> tmpl = v8::FunctionTemplate::New(
      isolate, slow, v8::Local<v8::Value>(), v8::Local<v8::Signature>(), length,
      v8::ConstructorBehavior::kThrow, v8::SideEffectType::kHasSideEffect, fast);
  v8::Local<v8::Function> fn;
  if (!tmpl->GetFunction(context).ToLocal(&fn)) return false;
  // A napi_value is a v8::Local<v8::Value> in Node's N-API implementation
  // (v8impl::JsValueFromV8LocalValue); this is how the fast functions join
  // an otherwise N-API module.
  napi_value value;
  static_assert(sizeof value == sizeof fn, "napi_value is a Local");
  memcpy(&value, &fn, sizeof value);
  return napi_set_named_property(env, exports, name, value) == napi_ok;
}
#endif

// ---------------------------------------------------------- control

std::string GetString(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return {};
  std::string s(len, '\0');
  napi_get_value_string_utf8(env, v, s.data(), len + 1, &len);
  return s;
}

bool IsString(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t == napi_string;
}

napi_value Number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

napi_value Throw(napi_env env, const char* message) {
  napi_throw_error(env, "ERR_VIZ_NATIVE", message);
  return nullptr;
}

void RetireOnCleanup(void* arg) { RetireThreadRing(static_cast<ThreadRing*>(arg)); }

// init(capacity, nodeThreadId, threadName, dumpPath | null, installSignals)
napi_value Init(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 5) return Throw(env, "init: expected 5 arguments");
  uint32_t capacity = 0;
  int32_t thread_id = 0;
  bool signals = false;
  napi_get_value_uint32(env, argv[0], &capacity);
  napi_get_value_int32(env, argv[1], &thread_id);
  napi_get_value_bool(env, argv[4], &signals);
  std::string name = GetString(env, argv[2]);
  InitProcess();
  if (IsString(env, argv[3]) && !SetDumpPath(GetString(env, argv[3]).c_str()))
    return Throw(env, "init: dump path too long");
  bool existed = tls_ring != nullptr;
  ThreadRing* ring = CreateThreadRing(capacity, thread_id, name.c_str());
  if (!ring) return Throw(env, "init: no ring (too many threads or no memory)");
  if (!existed) napi_add_env_cleanup_hook(env, RetireOnCleanup, ring);
  if (signals) InstallSignalHandlers();
  return Number(env, ring->capacity);
}

uint32_t ElementU32(napi_env env, napi_value array, uint32_t i) {
  napi_value v;
  uint32_t out = 0;
  if (napi_get_element(env, array, i, &v) == napi_ok) napi_get_value_uint32(env, v, &out);
  return out;
}

// registerFrames(files[], names[], fileIndexes[], lines[], columns[], kinds[])
// -> id of the first frame
napi_value RegisterFramesJs(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 6) return Throw(env, "registerFrames: expected 6 arguments");
  uint32_t file_count = 0, count = 0;
  napi_get_array_length(env, argv[0], &file_count);
  napi_get_array_length(env, argv[1], &count);
  std::vector<std::string> files(file_count), names(count);
  std::vector<const char*> file_ptrs(file_count);
  std::vector<size_t> file_lens(file_count);
  for (uint32_t i = 0; i < file_count; i++) {
    napi_value v;
    napi_get_element(env, argv[0], i, &v);
    files[i] = GetString(env, v);
    file_ptrs[i] = files[i].data();
    file_lens[i] = files[i].size();
  }
  std::vector<FrameSpec> frames(count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value v;
    napi_get_element(env, argv[1], i, &v);
    names[i] = GetString(env, v);
    frames[i] = {names[i].data(),
                 names[i].size(),
                 ElementU32(env, argv[2], i),
                 ElementU32(env, argv[3], i),
                 ElementU32(env, argv[4], i),
                 ElementU32(env, argv[5], i)};
  }
  uint32_t base =
      RegisterFrames(file_count, file_ptrs.data(), file_lens.data(), count, frames.data());
  if (base == 0) return Throw(env, "registerFrames: frame table full");
  return Number(env, base);
}

// dump(path?) -> bytes written, or -errno
napi_value DumpJs(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc >= 1 && IsString(env, argv[0]))
    return Number(env, double(WriteDump(GetString(env, argv[0]).c_str(), 0, true)));
  return Number(env, double(WriteDump(nullptr, 0, true)));
}

napi_value SetThreadNameJs(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (tls_ring && argc >= 1) SetThreadName(tls_ring, GetString(env, argv[0]).c_str());
  return nullptr;
}

napi_value SetDumpPathJs(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 1 || !SetDumpPath(GetString(env, argv[0]).c_str()))
    return Throw(env, "setDumpPath: path missing or too long");
  return nullptr;
}

napi_value ReclaimSignalJs(napi_env env, napi_callback_info info) {
  int32_t sig[1];
  if (ArgInt32(env, info, 1, sig)) ReclaimSignal(sig[0]);
  return nullptr;
}

// stats() -> [writeIndex, capacity, fastCalls, frameCount] of this thread
napi_value StatsJs(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_array_with_length(env, 4, &out);
  ThreadRing* ring = tls_ring;
  double values[4] = {ring ? double(ring->write_index.load(std::memory_order_relaxed)) : 0,
                      ring ? double(ring->capacity) : 0, ring ? double(ring->fast_calls) : 0,
                      double(FrameCount())};
  for (uint32_t i = 0; i < 4; i++) napi_set_element(env, out, i, Number(env, values[i]));
  return out;
}

// record(kind, a, aux): instants, counters, object events (their payload follows
// through payload()). Kinds that carry a frame or span id only.
napi_value RecordJs(napi_env env, napi_callback_info info) {
  int32_t v[3];
  ThreadRing* ring = tls_ring;
  if (!ring || !ArgInt32(env, info, 3, v)) return nullptr;
  uint32_t kind = uint32_t(v[0]);
  bool allowed = kind == kInstant || kind == kCounter || kind == kObject || kind == kValue;
  if (allowed) Append(ring, uint32_t(v[1]), Kind(RecordKind(kind), uint32_t(v[2]) & 0xFFFFFF));
  return nullptr;
}

// timedSlice(startMonotonicNs, durationNs, nameFrameId): a slice measured by
// someone else (V8's GC), on CLOCK_MONOTONIC.
napi_value TimedSliceJs(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 3 || !tls_ring) return nullptr;
  double start = 0, duration = 0;
  uint32_t name = 0;
  napi_get_value_double(env, argv[0], &start);
  napi_get_value_double(env, argv[1], &duration);
  napi_get_value_uint32(env, argv[2], &name);
  if (!(start > 0) || !(duration >= 0)) return nullptr;
  uint32_t d = duration > 4294967295.0 ? 0xFFFFFFFFu : uint32_t(duration);
  AppendAt(tls_ring, uint64_t(start), d, Kind(kTimedSlice, name & 0xFFFFFF));
  return nullptr;
}

// payload(role, jsonText) -> true when stored
napi_value PayloadJs(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  bool ok = false;
  ThreadRing* ring = tls_ring;
  uint32_t role = 0;
  if (ring && argc >= 2 && napi_get_value_uint32(env, argv[0], &role) == napi_ok) {
    // Most payloads are short: one copy through a stack buffer (no thread_local: the
    // static TLS block of a dlopen'ed addon is small).
    char small[4096];
    size_t len = 0;
    if (napi_get_value_string_utf8(env, argv[1], small, sizeof small, &len) == napi_ok) {
      if (len < sizeof small - 4) {
        ok = AppendPayload(ring, role, small, len);
      } else {
        std::string text = GetString(env, argv[1]);
        ok = AppendPayload(ring, role, text.data(), text.size());
      }
    }
  }
  napi_value out;
  napi_get_boolean(env, ok, &out);
  return out;
}

// setPaused(paused): stop()/start(); the change itself is recorded on this thread.
napi_value SetPausedJs(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  bool paused = false;
  if (argc >= 1) napi_get_value_bool(env, argv[0], &paused);
  bool was = g_paused.exchange(paused);
  if (was != paused && tls_ring) Append(tls_ring, 0, Kind(paused ? kPause : kResume));
  return nullptr;
}

// crash(): a real SIGSEGV (a fault, not a sent signal), for tests.
napi_value CrashJs(napi_env, napi_callback_info) {
  volatile int* null_pointer = nullptr;
  *null_pointer = 1;
  return nullptr;
}

void SetFunction(napi_env env, napi_value exports, const char* name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn);
  napi_set_named_property(env, exports, name, fn);
}

}  // namespace

napi_value InitModule(napi_env env, napi_value exports) {
  InitClock();
  SetFunction(env, exports, "init", Init);
  SetFunction(env, exports, "registerFrames", RegisterFramesJs);
  SetFunction(env, exports, "dump", DumpJs);
  SetFunction(env, exports, "setThreadName", SetThreadNameJs);
  SetFunction(env, exports, "setDumpPath", SetDumpPathJs);
  SetFunction(env, exports, "reclaimSignal", ReclaimSignalJs);
  SetFunction(env, exports, "stats", StatsJs);
  SetFunction(env, exports, "crash", CrashJs);
  SetFunction(env, exports, "record", RecordJs);
  SetFunction(env, exports, "timedSlice", TimedSliceJs);
  SetFunction(env, exports, "payload", PayloadJs);
  SetFunction(env, exports, "setPaused", SetPausedJs);
  SetFunction(env, exports, "napiEnter", NapiFrameEvent<kEnter>);
  SetFunction(env, exports, "napiExit", NapiFrameEvent<kExit>);
  SetFunction(env, exports, "napiInstant", NapiFrameEvent<kInstant>);
  SetFunction(env, exports, "napiValue", NapiValue);
  SetFunction(env, exports, "napiAsyncBegin", NapiAsyncBegin);
  SetFunction(env, exports, "napiAsyncEnd", NapiAsyncEnd);
  RegisterCallCodec(env, exports);
  RegisterDeflate(env, exports);
  bool fast = false;
#if VIZ_FAST_API
  if (FastApiUsable(env)) {
    // Constructed here, not at load time: the constructor is a V8 symbol.
    static const v8::CFunctionInfo* frame_info = new v8::CFunctionInfo(kVoid, 2, kFrameArgs);
    static const v8::CFunctionInfo* value_info = new v8::CFunctionInfo(kVoid, 3, kValueArgs);
    static const v8::CFunction enter(reinterpret_cast<const void*>(&FastFrameEvent<kEnter>),
                                     frame_info);
    static const v8::CFunction exit(reinterpret_cast<const void*>(&FastFrameEvent<kExit>),
                                    frame_info);
    static const v8::CFunction instant(reinterpret_cast<const void*>(&FastFrameEvent<kInstant>),
                                       frame_info);
    static const v8::CFunction value(reinterpret_cast<const void*>(&FastValue), value_info);
    static const v8::CFunctionInfo* begin_info = new v8::CFunctionInfo(kInt32Ret, 2, kFrameArgs);
    static const v8::CFunction async_begin(reinterpret_cast<const void*>(&FastAsyncBegin),
                                           begin_info);
    static const v8::CFunction async_end(reinterpret_cast<const void*>(&FastAsyncEnd), value_info);
    fast = SetFastFunction(env, exports, "enter", SlowFrameEvent<kEnter>, &enter, 1) &&
           SetFastFunction(env, exports, "exit", SlowFrameEvent<kExit>, &exit, 1) &&
           SetFastFunction(env, exports, "instant", SlowFrameEvent<kInstant>, &instant, 1) &&
           SetFastFunction(env, exports, "value", SlowValue, &value, 2) &&
           SetFastFunction(env, exports, "asyncBegin", SlowAsyncBegin, &async_begin, 1) &&
           SetFastFunction(env, exports, "asyncEnd", SlowAsyncEnd, &async_end, 2);
  }
#endif
  if (!fast) {
    SetFunction(env, exports, "enter", NapiFrameEvent<kEnter>);
    SetFunction(env, exports, "exit", NapiFrameEvent<kExit>);
    SetFunction(env, exports, "instant", NapiFrameEvent<kInstant>);
    SetFunction(env, exports, "value", NapiValue);
    SetFunction(env, exports, "asyncBegin", NapiAsyncBegin);
    SetFunction(env, exports, "asyncEnd", NapiAsyncEnd);
  }
  napi_value has_fast;
  napi_get_boolean(env, fast, &has_fast);
  napi_set_named_property(env, exports, "hasFastApi", has_fast);
  napi_value clock;
  napi_create_string_utf8(env, g_use_tsc ? "tsc" : "monotonic", NAPI_AUTO_LENGTH, &clock);
  napi_set_named_property(env, exports, "clock", clock);
  return exports;
}

}  // namespace viz

NAPI_MODULE_INIT() { return viz::InitModule(env, exports); }
