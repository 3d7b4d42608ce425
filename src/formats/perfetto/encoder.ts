/**
 * Hand-rolled protobuf encoder for the writer's hot path.
 *
 * protobufjs builds an object per message and encodes through generic per-field code, which is
 * several times too slow for the converter's throughput bar (millions of TrackEvent packets per
 * second). The writer therefore encodes packets directly into one growing byte buffer: varints,
 * fixed64 and length-delimited fields, with nested lengths patched in place. protobufjs is still
 * the schema: the reader and the test validator decode these bytes with it, and
 * test/formats/perfetto/encoder.test.ts checks that the two agree field by field.
 * `readVarint` at the end is the one varint decoder the reader and the writer share.
 */

const TWO32 = 4294967296;

/** Wire types. */
export const WT = { varint: 0, fixed64: 1, len: 2, fixed32: 5 } as const;

export class ProtoWriter {
  buf: Buffer;
  pos = 0;

  private readonly initialSize: number;

  constructor(size = 1 << 20) {
    this.buf = Buffer.allocUnsafe(size);
    this.initialSize = size;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A copy of the bytes written so far (for pre-encoded fields kept beside the writer). */
  bytes(): Uint8Array {
    return Uint8Array.from(this.buf.subarray(0, this.pos));
  }

  /** Hands out the bytes written so far and starts a fresh buffer (the old one is not reused). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.initialSize);
    this.pos = 0;
    return out;
  }

  /** Unsigned varint of a non-negative integer below 2^53 (callers guarantee it). */
  varint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    if (v < TWO32) {
      while (v > 127) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[p++] = v;
      this.pos = p;
      return;
    }
    this.pos = p;
    this.varintHiLo(Math.floor(v / TWO32) >>> 0, v >>> 0);
  }

  /** Varint of the 64-bit value hi * 2^32 + lo (both uint32). */
  varintHiLo(hi: number, lo: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (hi !== 0) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 127) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  /** int64/int32 varint of a safe integer, negative values as 10-byte two's complement. */
  int64(v: number): void {
    if (v >= 0) this.varint(v);
    else this.varintHiLo(Math.floor(v / TWO32) >>> 0, v >>> 0);
  }

  /** uint64 varint of a BigInt in [0, 2^64). */
  varintBig(v: bigint): void {
    this.varintHiLo(Number((v >> 32n) & 0xffffffffn), Number(v & 0xffffffffn));
  }

  tag(field: number, wireType: number): void {
    if (field < 16) {
      this.ensure(1);
      this.buf[this.pos++] = field * 8 + wireType;
    } else this.varint(field * 8 + wireType);
  }

  /** Pre-encoded bytes (a tag plus value computed once, e.g. a track uuid field). */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    if (n <= 16) {
      // TypedArray.set costs more than a loop for the few bytes of a pre-encoded field.
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = bytes[i]!;
      this.pos = p;
    } else {
      this.buf.set(bytes, this.pos);
      this.pos += n;
    }
  }

  fixed64Big(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigUInt64LE(v, this.pos);
    this.pos += 8;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  fieldVarint(field: number, v: number): void {
    if (field < 16 && v < 128) {
      // The common case (small iids, enum values, flags): two bytes.
      this.ensure(2);
      this.buf[this.pos] = field * 8;
      this.buf[this.pos + 1] = v;
      this.pos += 2;
      return;
    }
    this.tag(field, WT.varint);
    this.varint(v);
  }

  fieldInt64(field: number, v: number): void {
    this.tag(field, WT.varint);
    this.int64(v);
  }

  fieldBool(field: number, v: boolean): void {
    this.tag(field, WT.varint);
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  fieldDouble(field: number, v: number): void {
    this.tag(field, WT.fixed64);
    this.double(v);
  }

  fieldFixed64(field: number, v: bigint): void {
    this.tag(field, WT.fixed64);
    this.fixed64Big(v);
  }

  fieldString(field: number, s: string): void {
    this.tag(field, WT.len);
    if (s.length < 43) {
      // At most 126 bytes of UTF-8: the length fits one byte.
      this.ensure(1 + s.length * 3);
      const n = this.buf.write(s, this.pos + 1, 'utf8');
      this.buf[this.pos] = n;
      this.pos += 1 + n;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.buf.write(s, this.pos, n, 'utf8');
    this.pos += n;
  }

  /** Starts a length-delimited field; returns the mark to pass to `end`. One length byte is reserved. */
  begin(field: number): number {
    this.tag(field, WT.len);
    this.ensure(1);
    return this.pos++;
  }

  /** Ends a length-delimited field started at `mark`, moving the body when the length needs more than one byte. */
  end(mark: number): void {
    const len = this.pos - mark - 1;
    if (len < 128) {
      this.buf[mark] = len;
      return;
    }
    let extra = 0;
    for (let l = len >>> 7; l > 0; l >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(mark + 1 + extra, mark + 1, this.pos);
    const save = this.pos + extra;
    this.pos = mark;
    this.varint(len);
    this.pos = save;
  }
}

/** Field tag + varint value, pre-encoded (for values written on every packet). */
export function encodeVarintField(field: number, value: bigint | number): Uint8Array {
  const w = new ProtoWriter(24);
  w.tag(field, WT.varint);
  if (typeof value === 'bigint') w.varintBig(value);
  else w.varint(value);
  return w.bytes();
}

/** 64-bit FNV-1a of a string, never 0 (0 is the implicit global track / "no flow"). */
export function hash64(s: string): bigint {
  // Two 32-bit halves of the 64-bit FNV state; multiplication by the 64-bit prime 0x100000001b3
  // = 2^40 + 0x1b3 done by parts.
  let h0 = 0x84222325 >>> 0; // low 32
  let h1 = 0xcbf29ce4 >>> 0; // high 32
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h0 = (h0 ^ (c & 0xff)) >>> 0;
    if (c > 0xff) h1 = (h1 ^ (c >>> 8)) >>> 0;
    // (h1:h0) * 0x1b3
    const lo = h0 * 0x1b3;
    const carry = Math.floor(lo / TWO32);
    const nl = lo >>> 0;
    let nh = (h1 * 0x1b3 + carry) >>> 0;
    // + (h0 << 40) => adds (h0 << 8) to the high word
    nh = (nh + ((h0 << 8) >>> 0)) >>> 0;
    h0 = nl;
    h1 = nh;
  }
  const v = (BigInt(h1) << 32n) | BigInt(h0);
  return v === 0n ? 1n : v;
}

/** Reads a varint at `p`; returns [value, next position] or undefined when cut. */
export function readVarint(buf: Uint8Array, p: number, end = buf.length): [number, number] | undefined {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (p >= end) return undefined;
    const b = buf[p++]!;
    v += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [v, p];
    mul *= 128;
  }
  return [Number.NaN, p];
}
