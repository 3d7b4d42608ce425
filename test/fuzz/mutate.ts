/**
 * Mutations of seed inputs for fuzzing, as fast-check arbitraries: byte-level damage (bit flips,
 * truncation, overwrites, deleted or repeated ranges, extreme little-endian integers, long
 * varints) for every format, and structure-aware damage for text formats (hostile values in
 * place of a field's value, hostile text inserted anywhere: huge numbers, deep nesting, wrong
 * types, invalid UTF-8, enormous strings). Gzip seeds are damaged either inside (then
 * recompressed) or as compressed bytes.
 */
import fc from 'fast-check';
import { gzipSync, gunzipSync } from 'node:zlib';
import { encodeVarint } from '../support/perfetto-validator.js';

export interface Seed {
  /** Registry format name. */
  format: string;
  /** File name the case is saved under (the extension takes part in detection). */
  fileName: string;
  bytes: Buffer;
  /** Text formats (JSON, folded) also get structure-aware mutations. */
  text: boolean;
}

/** Size of the "enormous" values: a few MB in CI, more in long runs. */
export const BIG = Number(process.env.FUZZ_BIG_BYTES ?? 4_000_000);

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Hostile JSON values (as bytes, since some are not valid UTF-8). */
export function hostileValues(): Buffer[] {
  return [
    enc('1e999'),
    enc('-1e999'),
    enc('1e-999'),
    enc('123456789012345678901234567890123456789'),
    enc('9007199254740993'),
    enc('-9007199254740993'),
    enc('1.7976931348623157e308'),
    enc('0.0000000000000000000000001'),
    enc('-0'),
    enc('NaN'),
    enc('Infinity'),
    enc('0x10'),
    enc('1.'),
    enc('.5'),
    enc('01'),
    enc('1e'),
    enc('-'),
    enc('"1e999"'),
    enc('"12.5"'),
    enc('""'),
    enc('null'),
    enc('true'),
    enc('[]'),
    enc('{}'),
    enc('[1,2,3]'),
    enc('{"a":{"b":[null]}}'),
    enc('"\\ud800"'),
    enc('"\\udc00\\ud800"'),
    enc('"\\u12"'),
    enc('"\\x41"'),
    enc('"\\'),
    enc('"a\u0000b"'),
    enc('"\u2028\u2029"'),
    Buffer.from([0x22, 0xff, 0xfe, 0x22]),
    Buffer.from([0x22, 0xc3, 0x22]),
    Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]),
    Buffer.from([0x22, 0xc0, 0xaf, 0x22]),
    Buffer.from([0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]),
    enc('['.repeat(100_000)),
    enc('['.repeat(100_000) + ']'.repeat(100_000)),
    enc('{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000)),
    enc('"' + 'a'.repeat(BIG) + '"'),
    enc('"' + '\\u00e9'.repeat(BIG / 6) + '"'),
    enc('"' + 'é'.repeat(BIG / 2) + '"'),
    enc('9'.repeat(100_000)),
    enc('[' + '1,'.repeat(BIG / 2) + '1]'),
  ];
}

/** Hostile text inserted at a random offset (not necessarily a value position). */
export function hostileInserts(): Buffer[] {
  return [
    ...hostileValues(),
    enc(','),
    enc(',,'),
    enc('}'),
    enc(']'),
    enc('{'),
    enc('"'),
    enc('\\'),
    enc(':'),
    enc('"traceEvents":'),
    enc('{"ph":"B","name":"x","ts":1,"pid":1,"tid":1},'),
    enc('{"ph":"E","ts":-1e300,"pid":1,"tid":1},'),
    enc('{"ph":"X","name":"x","ts":1e300,"dur":1e300,"pid":"p","tid":{}},'),
    enc('{"ph":"M","name":"thread_name","pid":1,"tid":1,"args":{"name":7}},'),
    enc('\n'),
    enc('\r\n'),
    enc('\ufeff'),
    enc(';'.repeat(10_000)),
    enc(' 99999999999999999999999\n'),
    enc('a;'.repeat(100_000) + 'a 1\n'),
    Buffer.from([0xff, 0xfe, 0xfd]),
    Buffer.from([0x00, 0x00, 0x00]),
  ];
}

/** Field names whose values get replaced (Chrome JSON and container keys). */
const KEYS = [
  'ph',
  'ts',
  'dur',
  'tdur',
  'pid',
  'tid',
  'name',
  'cat',
  'args',
  'id',
  'id2',
  'scope',
  's',
  'bp',
  'traceEvents',
  'displayTimeUnit',
  'metadata',
  'stackFrames',
];

export type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'truncate'; at: number }
  | { op: 'overwrite'; at: number; bytes: number[] }
  | { op: 'delete'; at: number; len: number }
  | { op: 'repeat'; at: number; len: number; times: number }
  | { op: 'int'; at: number; width: 4 | 8; value: bigint }
  | { op: 'varint'; at: number; len: number }
  | { op: 'insert'; at: number; what: number }
  | { op: 'value'; key: number; nth: number; what: number }
  | { op: 'packet'; nth: number; inner: Mutation };

const pos = fc.nat({ max: 1 << 30 });

export const binaryMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: pos, bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: pos }),
  fc.record({
    op: fc.constant('overwrite' as const),
    at: pos,
    bytes: fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 16 }),
  }),
  fc.record({ op: fc.constant('delete' as const), at: pos, len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    op: fc.constant('repeat' as const),
    at: pos,
    len: fc.integer({ min: 1, max: 256 }),
    times: fc.integer({ min: 2, max: 50 }),
  }),
  fc.record({
    op: fc.constant('int' as const),
    at: pos,
    width: fc.constantFrom(4 as const, 8 as const),
    value: fc.constantFrom(
      0n,
      1n,
      0x7fffffffn,
      0x80000000n,
      0xffffffffn,
      0x7fffffffffffffffn,
      0xffffffffffffffffn,
      0x100000000n,
    ),
  }),
  fc.record({ op: fc.constant('varint' as const), at: pos, len: fc.integer({ min: 1, max: 12 }) }),
);

/**
 * Protobuf streams (Perfetto): damage inside one top-level packet and fix up its length, so the
 * reader gets past the framing and into the packet's fields.
 */
export const packetMutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: binaryMutation, weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('packet' as const), nth: fc.nat(), inner: binaryMutation }),
    weight: 2,
  },
);

export const textMutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: binaryMutation, weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('insert' as const), at: pos, what: fc.nat() }), weight: 2 },
  {
    arbitrary: fc.record({ op: fc.constant('value' as const), key: fc.nat(), nth: fc.nat(), what: fc.nat() }),
    weight: 3,
  },
);

let values: Buffer[] | undefined;
let inserts: Buffer[] | undefined;

/** Applies one mutation; offsets are taken modulo the input length. */
export function applyMutation(input: Buffer, m: Mutation): Buffer {
  const n = input.length;
  const at =
    n === 0
      ? 0
      : m.op === 'value' || m.op === 'packet'
        ? 0
        : m.at % (n + (m.op === 'insert' || m.op === 'truncate' ? 1 : 0));
  switch (m.op) {
    case 'flip': {
      const out = Buffer.from(input);
      if (n > 0) out[at] = out[at]! ^ (1 << m.bit);
      return out;
    }
    case 'truncate':
      return input.subarray(0, at);
    case 'overwrite': {
      const out = Buffer.from(input);
      for (let i = 0; i < m.bytes.length && at + i < n; i++) out[at + i] = m.bytes[i]!;
      return out;
    }
    case 'delete':
      return Buffer.concat([input.subarray(0, at), input.subarray(at + m.len)]);
    case 'repeat': {
      const piece = input.subarray(at, at + m.len);
      return Buffer.concat([
        input.subarray(0, at),
        ...Array<Buffer>(m.times).fill(piece),
        input.subarray(at + piece.length),
      ]);
    }
    case 'int': {
      const out = Buffer.from(input);
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(m.value & 0xffffffffffffffffn);
      b.copy(out, at, 0, Math.min(m.width, n - at));
      return out;
    }
    case 'varint':
      return Buffer.concat([input.subarray(0, at), Buffer.alloc(m.len, 0xff), input.subarray(at)]);
    case 'insert': {
      inserts ??= hostileInserts();
      return Buffer.concat([input.subarray(0, at), inserts[m.what % inserts.length]!, input.subarray(at)]);
    }
    case 'packet': {
      const packets = topLevelPackets(input);
      if (packets.length === 0) return applyMutation(input, m.inner);
      const p = packets[m.nth % packets.length]!;
      const body = applyMutation(input.subarray(p.body, p.end), m.inner);
      return Buffer.concat([
        input.subarray(0, p.start),
        input.subarray(p.start, p.tagEnd),
        encodeVarint(body.length),
        body,
        input.subarray(p.end),
      ]);
    }
    case 'value': {
      values ??= hostileValues();
      const key = KEYS[m.key % KEYS.length]!;
      const needle = enc(`"${key}":`);
      const hits: number[] = [];
      for (let i = input.indexOf(needle); i >= 0; i = input.indexOf(needle, i + 1)) hits.push(i);
      if (hits.length === 0) return applyMutation(input, { op: 'insert', at: m.nth, what: m.what });
      const start = hits[m.nth % hits.length]! + needle.length;
      const end = valueEnd(input, start);
      return Buffer.concat([input.subarray(0, start), values[m.what % values.length]!, input.subarray(end)]);
    }
  }
}

/** End of the JSON value starting at `i` (approximate: balanced brackets, strings skipped). */
function valueEnd(b: Buffer, i: number): number {
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  let depth = 0;
  for (; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x22) {
      for (i++; i < b.length && b[i] !== 0x22; i++) if (b[i] === 0x5c) i++;
      if (depth === 0) return i + 1;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return i;
      if (--depth === 0) return i + 1;
    } else if (c === 0x2c && depth === 0) return i;
  }
  return b.length;
}

/** Top-level length-delimited fields of a protobuf stream (stops at the first malformed one). */
function topLevelPackets(b: Buffer): { start: number; tagEnd: number; body: number; end: number }[] {
  const out: { start: number; tagEnd: number; body: number; end: number }[] = [];
  let p = 0;
  const varint = (at: number): [number, number] | undefined => {
    let v = 0;
    let mul = 1;
    for (let i = at; i < b.length && i < at + 8; i++) {
      v += (b[i]! & 0x7f) * mul;
      mul *= 128;
      if (b[i]! < 0x80) return [v, i + 1];
    }
    return undefined;
  };
  while (p < b.length) {
    const tag = varint(p);
    if (!tag || (tag[0] & 7) !== 2) break;
    const len = varint(tag[1]);
    if (!len || len[1] + len[0] > b.length) break;
    out.push({ start: p, tagEnd: tag[1], body: len[1], end: len[1] + len[0] });
    p = len[1] + len[0];
  }
  return out;
}

const isGzip = (b: Buffer): boolean => b[0] === 0x1f && b[1] === 0x8b;

/** A case: one seed, a stack of 1-3 mutations, and (for gzip seeds) where they apply. */
export interface FuzzCase {
  seed: Seed;
  mutations: Mutation[];
  /** Gzip seeds: mutate the decompressed content and recompress, or the compressed bytes. */
  inside: boolean;
}

export function caseArbitrary(seeds: Seed[]): fc.Arbitrary<FuzzCase> {
  return fc.constantFrom(...seeds).chain((seed) =>
    fc.record({
      seed: fc.constant(seed),
      mutations: fc.array(
        seed.text ? textMutation : seed.format === 'perfetto' ? packetMutation : binaryMutation,
        { minLength: 1, maxLength: 3 },
      ),
      inside: fc.boolean(),
    }),
  );
}

export function materialise(c: FuzzCase): Buffer {
  let bytes = c.seed.bytes;
  const gz = isGzip(bytes) && c.inside;
  if (gz) bytes = gunzipSync(bytes);
  for (const m of c.mutations) bytes = applyMutation(bytes, m);
  return gz ? gzipSync(bytes, { level: 1 }) : bytes;
}

/** Short description of a case for failure messages. */
export function describeCase(c: FuzzCase): string {
  const ms = c.mutations.map((m) =>
    JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)),
  );
  return `${c.seed.fileName}${isGzip(c.seed.bytes) ? (c.inside ? ' (inside gzip)' : ' (gzip bytes)') : ''}: ${ms.join(' then ')}`;
}
