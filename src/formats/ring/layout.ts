/**
 * Byte layout of a ring dump (`.vizdump`), version 1. The normative text is
 * `schemas/ring-dump/README.md`; `native/recorder.cc` writes the same bytes.
 * All integers little-endian.
 */

/** `VIZDUMP\0` */
export const MAGIC = Uint8Array.from([0x56, 0x49, 0x5a, 0x44, 0x55, 0x4d, 0x50, 0x00]);
export const VERSION = 1;
export const HEADER_BYTES = 64;
export const SECTION_HEADER_BYTES = 16;
export const RING_HEADER_BYTES = 88;
export const RING_TRAILER_BYTES = 16;
export const RECORD_BYTES = 16;
export const THREAD_NAME_BYTES = 40;

export const HeaderFlag = { tsc: 1 } as const;

export const Section = {
  process: 1,
  frames: 2,
  ring: 3,
  /** a thread's payload bytes (logged values, event args), just before its RING */
  payload: 4,
  end: 0xffff,
} as const;

export const FrameEntry = { file: 1, frame: 2 } as const;

/** Low 8 bits of a record's kind word; the upper 24 bits are `aux`. */
export const Kind = {
  enter: 1,
  exit: 2,
  instant: 3,
  value: 4,
  /** a = span id (per thread, from 1), aux = frame id */
  asyncBegin: 5,
  asyncEnd: 6,
  /** a = payload position / 8 (low 32 bits), aux = PayloadRole */
  payload: 7,
  /** ticks = CLOCK_MONOTONIC ns of the start (not ticks), a = duration ns, aux = name frame id */
  timedSlice: 8,
  /** a = name frame id; the series are the payload that follows */
  counter: 9,
  /** a = name frame id, aux = ObjectPhase | object id << 2; the snapshot is the payload that follows */
  object: 10,
  /** stop(): calls are not recorded until the next resume */
  pause: 11,
  resume: 12,
} as const;

/** What a payload record's JSON text belongs to (its aux). */
export const PayloadRole = { ofPrevious: 1, returnValue: 2 } as const;
/** Low 2 bits of an object record's aux: Chrome's N, O, D. */
export const ObjectPhase = { created: 1, snapshot: 2, destroyed: 3 } as const;
/** Instant records' aux: the Chrome scope. */
export const InstantScope = { thread: 0, process: 1, global: 2 } as const;
export const PAYLOAD_HEADER_BYTES = 40;
export const PAYLOAD_TRAILER_BYTES = 8;

export const RingFlag = { writerMayBeActive: 1 } as const;

/** Largest aux value (frame id of a value record's name). */
export const MAX_AUX = 0xffffff;

export const pad4 = (n: number): number => (n + 3) & ~3;
export const pad8 = (n: number): number => (n + 7) & ~7;

/** Suffix rule for numbered (SIGUSR2) dumps: `x.vizdump` -> `x.3.vizdump`, `x` -> `x.3`. */
export function numberedDumpPath(path: string, seq: number): string {
  return path.endsWith('.vizdump') && path.length > '.vizdump'.length
    ? `${path.slice(0, -'.vizdump'.length)}.${seq}.vizdump`
    : `${path}.${seq}`;
}
