#include "recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>

#if VIZ_HAS_RDTSC
#include <cpuid.h>
#endif

namespace viz {

bool g_use_tsc = false;
std::atomic<bool> g_paused{false};
thread_local ThreadRing* tls_ring __attribute__((tls_model("initial-exec"))) = nullptr;

// ---------------------------------------------------------------- clock

void InitClock() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* forced = getenv("VIZ_CLOCK");
    if (forced && strcmp(forced, "monotonic") == 0) return;
#if VIZ_HAS_RDTSC
    unsigned eax, ebx, ecx, edx;
    // CPUID 0x80000007 EDX bit 8: invariant TSC (constant rate, runs in all
    // C-states), the condition for converting ticks to ns with one slope.
    if (__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) && (edx & (1u << 8))) g_use_tsc = true;
#endif
  });
}

ClockPair TakeClockPair() {
  // Bracket the tick read between two monotonic reads and keep the tightest
  // of a few tries: the pair is then accurate to a few tens of ns.
  ClockPair best = {0, 0};
  uint64_t best_gap = UINT64_MAX;
  for (int i = 0; i < 5; i++) {
    uint64_t before = MonotonicNs();
    uint64_t ticks = ReadTicks();
    uint64_t after = MonotonicNs();
    if (after - before < best_gap) {
      best_gap = after - before;
      best = {ticks, before + (after - before) / 2};
    }
  }
  if (!g_use_tsc) best.ticks = best.mono_ns;
  return best;
}

// ---------------------------------------------------------------- rings

constexpr int kMaxRings = 256;
static ThreadRing* g_rings[kMaxRings];
static std::atomic<int> g_ring_count{0};
static std::mutex g_ring_mutex;

static uint32_t RoundUpPow2(uint32_t v) {
  if (v < 16) v = 16;
  if (v > (1u << 30)) v = 1u << 30;
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

// A stack overflow's SIGSEGV can only be handled on another stack. Node does
// not set one up, so each recording thread gets its own (kept for the
// thread's life: the kernel may use it until the thread ends).
static void InstallAltStack() {
  stack_t current;
  if (sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;
  const size_t size = 64 * 1024;
  void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  stack_t alt = {};
  alt.ss_sp = mem;
  alt.ss_size = size;
  sigaltstack(&alt, nullptr);
}

ThreadRing* CreateThreadRing(uint32_t capacity, int32_t node_thread_id, const char* name) {
  if (tls_ring) return tls_ring;
  std::lock_guard<std::mutex> lock(g_ring_mutex);
  int slot = g_ring_count.load(std::memory_order_relaxed);
  if (slot >= kMaxRings) return nullptr;
  capacity = RoundUpPow2(capacity);
  // mmap, not malloc: pages are committed only as the ring fills, and the
  // memory is outside the JS heap so a heap-exhausted process can dump it.
  size_t bytes = size_t(capacity) * sizeof(Record);
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) return nullptr;
  ThreadRing* ring = new ThreadRing();
  ring->records = static_cast<Record*>(mem);
  ring->mask = capacity - 1;
  ring->write_index.store(0, std::memory_order_relaxed);
  ring->fast_calls = 0;
  ring->next_span = 0;
  ring->payload.store(nullptr, std::memory_order_relaxed);
  // 32 bytes of payload per event slot: room for a logged argument list and a
  // return value on most calls the ring keeps.
  ring->payload_capacity = uint64_t(capacity) * 32;
  ring->payload_pos.store(0, std::memory_order_relaxed);
  ring->capacity = capacity;
  ring->os_tid = pid_t(syscall(SYS_gettid));
  ring->node_thread_id = node_thread_id;
  ring->owner = pthread_self();
  ring->alive.store(true, std::memory_order_relaxed);
  SetThreadName(ring, name);
  InstallAltStack();
  g_rings[slot] = ring;
  g_ring_count.store(slot + 1, std::memory_order_release);
  tls_ring = ring;
  return ring;
}

void SetThreadName(ThreadRing* ring, const char* name) {
  char buf[kMaxThreadNameBytes + 1] = {0};
  if (name) strncpy(buf, name, kMaxThreadNameBytes);
  memcpy(ring->name, buf, sizeof buf);
}

void RetireThreadRing(ThreadRing* ring) {
  ring->alive.store(false, std::memory_order_release);
  if (tls_ring == ring) tls_ring = nullptr;
}

bool AppendPayload(ThreadRing* ring, uint32_t role, const char* text, size_t len) {
  char* buf = ring->payload.load(std::memory_order_relaxed);
  if (!buf) {
    void* mem = mmap(nullptr, ring->payload_capacity, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) return false;
    buf = static_cast<char*>(mem);
    ring->payload.store(buf, std::memory_order_release);
  }
  uint64_t cap = ring->payload_capacity;
  if (len > cap / 4) return false;
  uint64_t pos = ring->payload_pos.load(std::memory_order_relaxed);
  uint32_t header[2] = {uint32_t(len), 0};
  uint64_t mask = cap - 1;
  // The header never wraps (positions are multiples of 8); the text may.
  memcpy(buf + (pos & mask), header, 8);
  uint64_t at = (pos + 8) & mask;
  size_t first = len < cap - at ? len : size_t(cap - at);
  memcpy(buf + at, text, first);
  memcpy(buf, text + first, len - first);
  uint64_t next = pos + 8 + ((len + 7) & ~uint64_t(7));
  ring->payload_pos.store(next, std::memory_order_release);
  Append(ring, uint32_t(pos >> 3), kPayload | (role << 8));
  return true;
}

// --------------------------------------------------------------- frames
//
// Frames are encoded at registration time directly in their dump form, in
// chunks that never move, so the dump only has to write() the chunks.

constexpr size_t kChunkBytes = 256 * 1024;
constexpr int kMaxChunks = 16384;
struct FrameChunk {
  char* data;
  size_t size;
  std::atomic<size_t> used;
};
static FrameChunk g_chunks[kMaxChunks];
static std::atomic<int> g_chunk_count{0};
static std::atomic<uint32_t> g_next_frame_id{1};  // 0 means "no frame"
static uint32_t g_next_file_id = 1;
static std::mutex g_frame_mutex;

enum FrameEntryTag : uint32_t { kFileEntry = 1, kFrameEntry = 2 };

static size_t Pad4(size_t n) { return (n + 3) & ~size_t(3); }

// Returns space for `bytes` in the current chunk (opening a new one when
// needed); the caller publishes it with Commit.
static char* Reserve(size_t bytes) {
  int n = g_chunk_count.load(std::memory_order_relaxed);
  if (n > 0) {
    FrameChunk& c = g_chunks[n - 1];
    size_t used = c.used.load(std::memory_order_relaxed);
    if (c.size - used >= bytes) return c.data + used;
  }
  if (n >= kMaxChunks) return nullptr;
  size_t size = bytes > kChunkBytes ? bytes : kChunkBytes;
  char* data = static_cast<char*>(calloc(1, size));
  if (!data) return nullptr;
  g_chunks[n].data = data;
  g_chunks[n].size = size;
  g_chunks[n].used.store(0, std::memory_order_relaxed);
  g_chunk_count.store(n + 1, std::memory_order_release);
  return data;
}

static void Commit(size_t bytes) {
  FrameChunk& c = g_chunks[g_chunk_count.load(std::memory_order_relaxed) - 1];
  c.used.store(c.used.load(std::memory_order_relaxed) + bytes, std::memory_order_release);
}

static void PutU32(char*& p, uint32_t v) {
  memcpy(p, &v, 4);
  p += 4;
}

static void PutBytes(char*& p, const char* s, size_t n) {
  memcpy(p, s, n);
  memset(p + n, 0, Pad4(n) - n);
  p += Pad4(n);
}

uint32_t RegisterFrames(uint32_t file_count, const char* const* files, const size_t* file_lens,
                        uint32_t count, const FrameSpec* frames) {
  std::lock_guard<std::mutex> lock(g_frame_mutex);
  uint32_t first_file_id = g_next_file_id;
  for (uint32_t i = 0; i < file_count; i++) {
    size_t bytes = 12 + Pad4(file_lens[i]);
    char* p = Reserve(bytes);
    if (!p) return 0;
    PutU32(p, kFileEntry);
    PutU32(p, g_next_file_id++);
    PutU32(p, uint32_t(file_lens[i]));
    PutBytes(p, files[i], file_lens[i]);
    Commit(bytes);
  }
  uint32_t base = g_next_frame_id.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < count; i++) {
    const FrameSpec& f = frames[i];
    size_t bytes = 28 + Pad4(f.name_len);
    char* p = Reserve(bytes);
    if (!p) return 0;
    PutU32(p, kFrameEntry);
    PutU32(p, base + i);
    PutU32(p, f.file_index < file_count ? first_file_id + f.file_index : 0);
    PutU32(p, f.line);
    PutU32(p, f.column);
    PutU32(p, f.kind);
    PutU32(p, uint32_t(f.name_len));
    PutBytes(p, f.name, f.name_len);
    Commit(bytes);
    // Publish each id as it is complete: events may already use it.
    g_next_frame_id.store(base + i + 1, std::memory_order_release);
  }
  return base;
}

uint32_t FrameCount() { return g_next_frame_id.load(std::memory_order_relaxed) - 1; }

// -------------------------------------------------------------- process

static ClockPair g_start_pair;
static uint64_t g_start_realtime_ns;
static char* g_cmdline;  // NUL-separated argv, as in /proc/self/cmdline
static size_t g_cmdline_len;
constexpr size_t kMaxPath = 4096;
static char g_dump_path[kMaxPath];
static std::atomic<uint32_t> g_usr2_sequence{0};

void InitProcess() {
  static std::once_flag once;
  std::call_once(once, [] {
    InitClock();
    g_start_pair = TakeClockPair();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    g_start_realtime_ns = uint64_t(ts.tv_sec) * 1000000000u + ts.tv_nsec;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      size_t cap = 4096;
      g_cmdline = static_cast<char*>(malloc(cap));
      ssize_t n;
      while (g_cmdline && (n = read(fd, g_cmdline + g_cmdline_len, cap - g_cmdline_len)) > 0) {
        g_cmdline_len += size_t(n);
        if (g_cmdline_len == cap && cap < (1u << 20)) {
          cap *= 2;
          g_cmdline = static_cast<char*>(realloc(g_cmdline, cap));
        } else if (g_cmdline_len == cap) {
          break;
        }
      }
      close(fd);
      if (!g_cmdline) g_cmdline_len = 0;
    }
  });
}

bool SetDumpPath(const char* path) {
  size_t n = strlen(path);
  if (n + 32 >= kMaxPath) return false;  // room for the SIGUSR2 suffix
  memcpy(g_dump_path, path, n + 1);
  return true;
}

// ----------------------------------------------------------------- dump
//
// Only write(2), open(2), close(2), clock_gettime and memcpy below: no malloc,
// no locks, no stdio. Buffers are static; g_dumping serialises dumps.

static std::atomic<bool> g_dumping{false};

struct Writer {
  int fd;
  int64_t total;
  bool failed;
  char buf[8192];
  size_t fill;

  void Flush() {
    size_t off = 0;
    while (off < fill && !failed) {
      ssize_t n = write(fd, buf + off, fill - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        failed = true;
      else
        off += size_t(n);
    }
    fill = 0;
  }
  void Put(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    if (n >= sizeof buf) {  // large blocks (ring records) bypass the buffer
      Flush();
      while (n > 0 && !failed) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
          failed = true;
          break;
        }
        p += w;
        n -= size_t(w);
        total += w;
      }
      return;
    }
    if (fill + n > sizeof buf) Flush();
    memcpy(buf + fill, p, n);
    fill += n;
    total += int64_t(n);
  }
  void U16(uint16_t v) { Put(&v, 2); }
  void U32(uint32_t v) { Put(&v, 4); }
  void U64(uint64_t v) { Put(&v, 8); }
  void Zeros(size_t n) {
    static const char zeros[64] = {0};
    while (n > 0) {
      size_t k = n < sizeof zeros ? n : sizeof zeros;
      Put(zeros, k);
      n -= k;
    }
  }
  void Section(uint32_t type, uint64_t length) {
    U32(type);
    U32(0);
    U64(length);
  }
};

static Writer g_writer;  // static: too big for a signal stack
static size_t g_chunk_used_snapshot[kMaxChunks];

enum SectionType : uint32_t {
  kProcessSection = 1,
  kFramesSection = 2,
  kRingSection = 3,
  kPayloadSection = 4,
  kEndSection = 0xFFFF,
};

static size_t Pad8(size_t n) { return (n + 7) & ~size_t(7); }

constexpr uint32_t kRingHeaderBytes = 88;

// The thread's payload bytes, oldest first; written just before its RING.
static void WritePayloads(Writer& w, ThreadRing* ring) {
  char* buf = ring->payload.load(std::memory_order_acquire);
  if (!buf) return;
  uint64_t cap = ring->payload_capacity;
  uint64_t before = ring->payload_pos.load(std::memory_order_acquire);
  uint64_t count = before < cap ? before : cap;
  uint64_t first = before - count;
  w.Section(kPayloadSection, 40 + count + 8);
  w.U32(uint32_t(ring->os_tid));
  w.U32(uint32_t(ring->node_thread_id));
  w.U64(cap);
  w.U64(before);
  w.U64(first);
  w.U64(count);
  uint64_t start = first & (cap - 1);
  uint64_t head = count < cap - start ? count : cap - start;
  w.Put(buf + start, head);
  w.Put(buf, count - head);
  w.U64(ring->payload_pos.load(std::memory_order_acquire));
}

static void WriteRing(Writer& w, ThreadRing* ring, bool from_js) {
  WritePayloads(w, ring);
  uint64_t before = ring->write_index.load(std::memory_order_acquire);
  uint64_t count = before < ring->capacity ? before : ring->capacity;
  uint64_t first = before - count;
  // A ring whose owner may be between "write record" and "publish index" has
  // one slot of uncertain content: the oldest one. Only a JS call on the
  // owner thread (or a retired ring) is known to be between events.
  bool quiet = !ring->alive.load(std::memory_order_acquire) ||
               (from_js && pthread_equal(ring->owner, pthread_self()));
  uint64_t length = kRingHeaderBytes + count * sizeof(Record) + 16;
  w.Section(kRingSection, length);
  w.U32(uint32_t(ring->os_tid));
  w.U32(uint32_t(ring->node_thread_id));
  w.U32(ring->capacity);
  w.U32(sizeof(Record));
  w.U64(before);
  w.U64(first);
  w.U64(count);
  w.U32(quiet ? 0 : 1);  // flags bit 0: writer may be mid-record
  w.U32(0);
  w.Put(ring->name, sizeof ring->name);  // 40 bytes, NUL-padded
  // Records oldest first: from the slot of `first` to the end, then the rest.
  uint64_t start_slot = first & ring->mask;
  uint64_t head = count < ring->capacity - start_slot ? count : ring->capacity - start_slot;
  w.Put(ring->records + start_slot, head * sizeof(Record));
  w.Put(ring->records, (count - head) * sizeof(Record));
  // Read again: slots of indices below (after - capacity) were overwritten
  // while they were being written out; the reader drops them.
  w.U64(ring->write_index.load(std::memory_order_acquire));
  w.U64(ring->fast_calls);
}

static void AppendDecimal(char* dst, uint32_t v) {
  char tmp[16];
  int n = 0;
  do {
    tmp[n++] = char('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *dst++ = tmp[--n];
  *dst = 0;
}

// "<stem>.vizdump" -> "<stem>.<seq>.vizdump"; other names get ".<seq>".
static void NumberedPath(char* out, uint32_t seq) {
  size_t n = strlen(g_dump_path);
  static const char ext[] = ".vizdump";
  size_t ext_len = sizeof ext - 1;
  bool has_ext = n > ext_len && memcmp(g_dump_path + n - ext_len, ext, ext_len) == 0;
  size_t stem = has_ext ? n - ext_len : n;
  memcpy(out, g_dump_path, stem);
  out[stem] = '.';
  AppendDecimal(out + stem + 1, seq);
  if (has_ext) {
    size_t m = strlen(out);
    memcpy(out + m, ext, ext_len + 1);
  }
}

int64_t WriteDump(const char* path, int signal, bool from_js) {
  if (!path) path = g_dump_path;
  if (!path[0]) return -ENOENT;
  bool expected = false;
  if (!g_dumping.compare_exchange_strong(expected, true)) return -EBUSY;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    int err = errno;
    g_dumping.store(false);
    return -err;
  }
  Writer& w = g_writer;
  w.fd = fd;
  w.total = 0;
  w.failed = false;
  w.fill = 0;

  ClockPair now = TakeClockPair();
  // Header: 64 bytes.
  w.Put("VIZDUMP\0", 8);
  w.U16(1);   // version
  w.U16(64);  // header size
  w.U32(g_use_tsc ? 1 : 0);
  w.U32(uint32_t(getpid()));
  w.U32(uint32_t(signal));
  w.U64(g_start_pair.ticks);
  w.U64(g_start_pair.mono_ns);
  w.U64(now.ticks);
  w.U64(now.mono_ns);
  w.U64(g_start_realtime_ns);

  w.Section(kProcessSection, Pad8(8 + g_cmdline_len));
  w.U32(uint32_t(g_cmdline_len));
  w.U32(uint32_t(getppid()));  // parent pid (async-signal-safe)
  w.Put(g_cmdline, g_cmdline_len);
  w.Zeros(Pad8(8 + g_cmdline_len) - 8 - g_cmdline_len);

  // Snapshot chunk sizes first: registration may continue on another thread.
  int chunks = g_chunk_count.load(std::memory_order_acquire);
  size_t frame_bytes = 0;
  for (int i = 0; i < chunks; i++) {
    g_chunk_used_snapshot[i] = g_chunks[i].used.load(std::memory_order_acquire);
    frame_bytes += g_chunk_used_snapshot[i];
  }
  w.Section(kFramesSection, Pad8(frame_bytes));
  for (int i = 0; i < chunks; i++) w.Put(g_chunks[i].data, g_chunk_used_snapshot[i]);
  w.Zeros(Pad8(frame_bytes) - frame_bytes);

  int rings = g_ring_count.load(std::memory_order_acquire);
  for (int i = 0; i < rings; i++) WriteRing(w, g_rings[i], from_js);

  w.Section(kEndSection, 0);
  w.Flush();
  close(fd);
  int64_t result = w.failed ? -EIO : w.total;
  g_dumping.store(false);
  return result;
}

// -------------------------------------------------------------- signals
//
// SIGINT/SIGTERM/SIGHUP: dump, then behave as if we were not there: chain to the
// handler we displaced (Node's own, or libuv's when the program listens),
// or die by the signal when that was the default action.
// SIGUSR2: numbered dump, keep running.
// Fatal signals: dump once, restore the previous action, let it happen again.

static struct sigaction g_prev[NSIG];
static struct sigaction g_original[NSIG];  // what was there at install time
static std::atomic<bool> g_fatal_dumped{false};
static const int kFatalSignals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
static const int kTerminatingSignals[] = {SIGINT, SIGTERM, SIGHUP};

static void OnSignal(int sig, siginfo_t* info, void* context);

static bool IsOurs(const struct sigaction& sa) {
  return (sa.sa_flags & SA_SIGINFO) && sa.sa_sigaction == OnSignal;
}

static void ChainTo(const struct sigaction& prev, int sig, siginfo_t* info, void* context) {
  if (prev.sa_flags & SA_SIGINFO) {
    if (prev.sa_sigaction) {
      // The kernel would have reset the action before calling a one-shot
      // handler; do the same, or its raise() would come back to us.
      if (prev.sa_flags & SA_RESETHAND) signal(sig, SIG_DFL);
      prev.sa_sigaction(sig, info, context);
    }
    return;
  }
  if (prev.sa_handler == SIG_IGN) return;
  if (prev.sa_handler == SIG_DFL) {
    signal(sig, SIG_DFL);
    raise(sig);  // delivered when this handler returns
    return;
  }
  if (prev.sa_flags & SA_RESETHAND) signal(sig, SIG_DFL);
  prev.sa_handler(sig);
}

static void OnSignal(int sig, siginfo_t* info, void* context) {
  int saved_errno = errno;
  if (sig == SIGUSR2) {
    char path[kMaxPath];
    NumberedPath(path, g_usr2_sequence.fetch_add(1) + 1);
    WriteDump(path, sig, false);
    const struct sigaction& prev = g_prev[sig];
    // Chain only to a real handler (a JS listener's); the default action
    // would kill the process, which is what SIGUSR2 dumps must not do.
    if (!(prev.sa_flags & SA_SIGINFO) &&
        (prev.sa_handler == SIG_DFL || prev.sa_handler == SIG_IGN)) {
      errno = saved_errno;
      return;
    }
    ChainTo(prev, sig, info, context);
  } else if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
    WriteDump(nullptr, sig, false);
    ChainTo(g_prev[sig], sig, info, context);
  } else {
    bool expected = false;
    if (g_fatal_dumped.compare_exchange_strong(expected, true)) WriteDump(nullptr, sig, false);
    sigaction(sig, &g_prev[sig], nullptr);
    // A sent signal (kill, raise, abort) must be sent again to reach the
    // previous action; a fault recurs by itself when we return.
    if (info == nullptr || info->si_code <= 0) raise(sig);
  }
  errno = saved_errno;
}

static void Install(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  struct sigaction old;
  sigaction(sig, &sa, &old);
  if (!IsOurs(old)) g_prev[sig] = old;
}

void InstallSignalHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int sig : kTerminatingSignals) {
      sigaction(sig, nullptr, &g_original[sig]);
      Install(sig);
    }
    sigaction(SIGUSR2, nullptr, &g_original[SIGUSR2]);
    Install(SIGUSR2);
    for (int sig : kFatalSignals) {
      sigaction(sig, nullptr, &g_original[sig]);
      Install(sig);
    }
  });
}

void ReclaimSignal(int sig) {
  if (sig <= 0 || sig >= NSIG) return;
  struct sigaction current;
  sigaction(sig, nullptr, &current);
  if (IsOurs(current)) return;
  // libuv resets to SIG_DFL when the last JS listener goes; chaining to that
  // would skip Node's own handler, so fall back to what was there first.
  bool reset_to_default = !(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_DFL;
  Install(sig);
  if (reset_to_default) g_prev[sig] = g_original[sig];
}

}  // namespace viz
