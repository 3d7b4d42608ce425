/**
 * Ring dumps built byte by byte from the schema (`schemas/ring-dump/README.md`), independently of
 * both writers, for reader and converter tests.
 */
/** Builds a dump byte by byte from the schema (independently of both writers). */
export interface RingSpec {
  tid: number;
  name: string;
  capacity: number;
  /** [ticks, a, kind, aux] in write order, oldest first: the dumped records. */
  records: [number, number, number, number?][];
  /** Write index when the dump started; default first + records.length. */
  before?: number;
  /** Index of the first dumped record; default 0. */
  first?: number;
  /** Write index after the records were written; default before. */
  after?: number;
  writerMayBeActive?: boolean;
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
export function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}
export function padTo(b: Buffer, m: number): Buffer {
  return Buffer.concat([b, Buffer.alloc((m - (b.length % m)) % m)]);
}
export function section(type: number, body: Buffer): Buffer {
  return Buffer.concat([u32(type), u32(0), u64(body.length), body]);
}

export const PID = 4242;
export const START_TICKS = 1_000_000_000n;
export const START_NS = 5_000_000_000n;
export const REALTIME = 1_763_700_000_123_456_789n;

export interface ProcessSpec {
  pid?: number;
  ppid?: number;
  /** CLOCK_MONOTONIC and realtime ns added to the defaults (a process that started later). */
  laterNs?: bigint;
  argv?: string[];
}

export function buildDump(
  rings: RingSpec[],
  frames: Array<[id: number, name: string, line: number, col: number]>,
  proc: ProcessSpec = {},
): Buffer {
  // 2 ticks per ns: dump pair 10 s of ticks later = 5 s.
  const later = proc.laterNs ?? 0n;
  const header = Buffer.concat([
    Buffer.from('VIZDUMP\0', 'latin1'),
    Buffer.from([1, 0, 64, 0]),
    u32(1),
    u32(proc.pid ?? PID),
    u32(0),
    u64(START_TICKS),
    u64(START_NS + later),
    u64(START_TICKS + 10_000_000_000n),
    u64(START_NS + later + 5_000_000_000n),
    u64(REALTIME + later + (later > 0n ? 3n : 0n)), // a later process's wall clock is read a little apart
  ]);
  const argv = Buffer.from((proc.argv ?? ['node', '/app/main.js']).map((a) => `${a}\0`).join(''), 'utf8');
  const procSection = padTo(Buffer.concat([u32(argv.length), u32(proc.ppid ?? 0), argv]), 8);
  const file = Buffer.from('/app/main.js');
  const entries = [Buffer.concat([u32(1), u32(1), u32(file.length), padTo(file, 4)])];
  for (const [id, name, line, col] of frames) {
    const n = Buffer.from(name);
    entries.push(
      Buffer.concat([u32(2), u32(id), u32(1), u32(line), u32(col), u32(0), u32(n.length), padTo(n, 4)]),
    );
  }
  const parts = [header, section(1, procSection), section(2, padTo(Buffer.concat(entries), 8))];
  for (const r of rings) {
    const first = r.first ?? 0;
    const before = r.before ?? first + r.records.length;
    const name = Buffer.alloc(40);
    name.write(r.name);
    const records = r.records.map(([t, a, kind, aux = 0]) =>
      Buffer.concat([u64(START_TICKS + BigInt(t)), u32(a), u32(kind | (aux << 8))]),
    );
    const body = Buffer.concat([
      u32(r.tid),
      u32(0),
      u32(r.capacity),
      u32(16),
      u64(before),
      u64(first),
      u64(r.records.length),
      u32(r.writerMayBeActive ? 1 : 0),
      u32(0),
      name,
      ...records,
      u64(r.after ?? before),
      u64(0),
    ]);
    parts.push(section(3, body));
  }
  parts.push(section(0xffff, Buffer.alloc(0)));
  return Buffer.concat(parts);
}

export const ENTER = 1;
export const EXIT = 2;
export const INSTANT = 3;

/** Calls with every irregularity: an orphan exit, an exit skipping an inner frame, an exit of a frame not open, frames open at the dump. */
export const MESSY_CALLS: RingSpec = {
  tid: 7,
  name: 'main',
  capacity: 64,
  records: [
    [10, 2, EXIT],
    [20, 1, ENTER],
    [30, 2, ENTER],
    [40, 1, ENTER],
    [50, 2, EXIT],
    [60, 2, ENTER],
    [70, 9, EXIT],
    [80, 2, EXIT],
    [90, 2, ENTER],
  ],
};

/** A call with an instant inside: not a ring of calls only. */
export const CALLS_AND_INSTANT: RingSpec = {
  tid: 8,
  name: 'worker',
  capacity: 64,
  records: [
    [15, 1, ENTER],
    [25, 1, INSTANT],
    [35, 1, EXIT],
  ],
};
