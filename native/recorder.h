// The recorder's native state: clock, per-thread rings, frame table, dump.
// Everything here is plain C++ with no Node types, so the dump path can run
// inside a signal handler. The layout written by the dump is specified in
// schemas/ring-dump/README.md; keep the two in sync.
#pragma once

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <atomic>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define VIZ_HAS_RDTSC 1
#else
#define VIZ_HAS_RDTSC 0
#endif

namespace viz {

// Record kinds (low 8 bits of Record::kind_aux). See the schema for payloads.
enum RecordKind : uint32_t {
  kEnter = 1,
  kExit = 2,
  kInstant = 3,
  kValue = 4,
  kAsyncBegin = 5,  // a = span id, aux = frame id
  kAsyncEnd = 6,
  kPayload = 7,     // a = payload position / 8 (low 32 bits), aux = PayloadRole
  kTimedSlice = 8,  // ticks = CLOCK_MONOTONIC ns of the start, a = duration ns, aux = name frame id
  kCounter = 9,     // a = name frame id; its series come in the next payload record
  kObject = 10,     // a = name frame id, aux = phase (1 new, 2 snapshot, 3 delete) | object id << 2
  kPause = 11,      // stop(): recording of calls pauses
  kResume = 12,     // start(): ... and resumes
};

// What a payload record's JSON text belongs to.
enum PayloadRole : uint32_t {
  kPayloadOfPrevious = 1,  // args of the previous record of the thread (enter, instant, counter, object)
  kPayloadReturn = 2,      // return value of the innermost open frame
};

// One event: 16 bytes, so a ring of 2^20 events is 16 MiB.
struct Record {
  uint64_t ticks;
  uint32_t a;         // frame id (enter/exit/instant) or int32 value (value)
  uint32_t kind_aux;  // kind | aux << 8 (aux: frame id of a value's name)
};
static_assert(sizeof(Record) == 16, "dump layout depends on 16-byte records");

constexpr uint32_t kMaxThreadNameBytes = 39;

struct alignas(64) ThreadRing {
  // Hot: touched by every event.
  Record* records;
  uint64_t mask;
  std::atomic<uint64_t> write_index;
  uint64_t fast_calls;  // events recorded through the V8 fast call path
  uint32_t next_span;   // last async span id handed out on this thread
  // Payloads (JSON text of logged arguments, return values, event args): a byte
  // ring allocated on first use, entries `u32 length, u32 0, bytes, pad to 8`.
  std::atomic<char*> payload;
  uint64_t payload_capacity;  // bytes, power of two
  std::atomic<uint64_t> payload_pos;  // bytes written since start (multiple of 8)
  // Cold: identity, read by the dump.
  uint32_t capacity;
  pid_t os_tid;
  int32_t node_thread_id;
  pthread_t owner;
  std::atomic<bool> alive;
  char name[kMaxThreadNameBytes + 1];
};

// --- clock ---------------------------------------------------------------

// True when ticks come from rdtsc (invariant TSC), false for CLOCK_MONOTONIC.
extern bool g_use_tsc;

inline uint64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

inline uint64_t ReadTicks() {
#if VIZ_HAS_RDTSC
  if (g_use_tsc) return __rdtsc();
#endif
  return MonotonicNs();
}

struct ClockPair {
  uint64_t ticks;
  uint64_t mono_ns;
};

// Chooses rdtsc when cpuid says the TSC is invariant (or VIZ_CLOCK=monotonic
// forces the portable clock). Idempotent.
void InitClock();
// A (ticks, monotonic ns) pair taken close together; async-signal-safe.
ClockPair TakeClockPair();

// --- rings ---------------------------------------------------------------

// The calling thread's ring; null until CreateThreadRing on this thread.
// initial-exec: the addon is loaded once per process, so a static TLS slot is
// available and each access is one %fs-relative load instead of a call.
extern thread_local ThreadRing* tls_ring __attribute__((tls_model("initial-exec")));

// stop()/start() of the tracing API: calls (enter, exit, async spans) are not
// recorded while paused; everything else is.
extern std::atomic<bool> g_paused;

inline void AppendAt(ThreadRing* ring, uint64_t ticks, uint32_t a, uint32_t kind_aux) {
  uint64_t index = ring->write_index.load(std::memory_order_relaxed);
  Record* rec = &ring->records[index & ring->mask];
  rec->ticks = ticks;
  rec->a = a;
  rec->kind_aux = kind_aux;
  ring->write_index.store(index + 1, std::memory_order_release);
}

inline void Append(ThreadRing* ring, uint32_t a, uint32_t kind_aux) {
  uint64_t index = ring->write_index.load(std::memory_order_relaxed);
  Record* rec = &ring->records[index & ring->mask];
  rec->ticks = ReadTicks();
  rec->a = a;
  rec->kind_aux = kind_aux;
  // Publish after the record is complete, so a dump on another thread (or a
  // signal handler on this one) sees at most one torn slot: the next one.
  ring->write_index.store(index + 1, std::memory_order_release);
}

// Allocates (or returns the existing) ring of the calling thread. capacity is
// rounded up to a power of two. Returns null if the ring table is full.
ThreadRing* CreateThreadRing(uint32_t capacity, int32_t node_thread_id, const char* name);
void SetThreadName(ThreadRing* ring, const char* name);
// The thread is going away: its ring stays for the dump.
void RetireThreadRing(ThreadRing* ring);
// Copies `len` bytes of JSON text into the thread's payload ring and appends a
// kPayload record pointing at them. False when the ring could not be
// allocated or the text is larger than a quarter of it.
bool AppendPayload(ThreadRing* ring, uint32_t role, const char* text, size_t len);

// --- frames --------------------------------------------------------------

struct FrameSpec {
  const char* name;
  size_t name_len;
  uint32_t file_index;  // into the files of the same call
  uint32_t line;
  uint32_t column;
  uint32_t kind;
};
// Registers a block of frames (typically one module); returns the id of the
// first (ids are consecutive). Thread-safe; allocates; never called from a
// signal handler. Returns 0 when the table is full.
uint32_t RegisterFrames(uint32_t file_count, const char* const* files, const size_t* file_lens,
                        uint32_t count, const FrameSpec* frames);
uint32_t FrameCount();

// --- process and dump ----------------------------------------------------

// Once per process: clock pair, wall clock, command line.
void InitProcess();
// Sets the default dump path (copied into static storage). False if too long.
bool SetDumpPath(const char* path);
// Writes a dump. path == null uses the default path. signal == 0 means a JS
// call. Async-signal-safe. Returns bytes written, or -errno.
int64_t WriteDump(const char* path, int signal, bool from_js);

// Installs the handlers for SIGINT, SIGTERM, SIGHUP, SIGUSR2 and the fatal signals.
void InstallSignalHandlers();
// Puts our handler back on top after libuv replaced it (a JS listener was
// added or removed); the displaced handler becomes the one we chain to.
void ReclaimSignal(int signal);

}  // namespace viz
