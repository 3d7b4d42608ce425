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
} as const;

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
