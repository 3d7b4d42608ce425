/**
 * Byte-level scanner for Chrome Trace Event JSON: the fast path.
 *
 * It reads the container and each event object straight from the bytes,
 * decoding only the fields the model types (`ph name cat ts dur pid tid id`)
 * and keeping `args` and every other field as raw JSON text, so no
 * intermediate objects are built. It stops cleanly at chunk boundaries: when
 * an event is cut by the end of the buffer it throws `NEED_MORE`, and the
 * caller retries with more bytes. `reader-generic.ts` is the stream-json
 * reference it is tested against.
 */
import { NO_DUR, NO_TS, type TraceEvent } from '../../model/event.js';
import type { ArgsWanted } from '../../model/source.js';

/** Thrown when the buffer ends inside the value being read. */
export const NEED_MORE = Symbol('need more input');

export class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const DOT = 0x2e;

const CACHE_MASK = 8191;
const ASCII: string[] = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i));

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * A decimal timestamp split so that `int * 1000 + fracNs` is the value in ns
 * exactly (both parts carry the sign). Reused to avoid allocation.
 */
export interface SplitTime {
  int: number;
  fracNs: number;
}

export class EventScanner {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  len = 0;
  /** Absolute offset of `buf[0]` in the input, for error messages. */
  base = 0;
  private readonly time: SplitTime = { int: 0, fracNs: 0 };
  /** Set by `readEvent`: the split `ts` of the last event, for rebasing. */
  tsInt = 0;
  tsFracNs = 0;
  hasTs = false;
  constructor(
    /** `ReadOptions.args`: which events keep their `args` text. */
    readonly argsWanted: ArgsWanted = 'all',
    /** `ReadOptions.categoriesNeeded`: when false, `cat` is checked and skipped. */
    readonly categoriesNeeded = true,
    /** `ReadOptions.nameIds`: number the names (`TraceEvent.nameId`). */
    readonly nameIds = false,
  ) {
    if (!primed) {
      primed = true;
      primeReadEvent();
    }
  }

  reset(buf: Buffer, base: number): void {
    this.buf = buf;
    this.pos = 0;
    this.len = buf.length;
    this.base = base;
  }

  fail(message: string, at = this.pos): never {
    throw new JsonSyntaxError(this.base + at, message);
  }

  /** Skips whitespace; returns the next byte without consuming it. */
  peek(): number {
    const buf = this.buf;
    let p = this.pos;
    const len = this.len;
    while (p < len && isSpace(buf[p]!)) p++;
    this.pos = p;
    if (p >= len) throw NEED_MORE;
    return buf[p]!;
  }

  /** Like `peek`, but returns -1 at the end of the buffer instead of throwing. */
  peekOrEnd(): number {
    const buf = this.buf;
    let p = this.pos;
    const len = this.len;
    while (p < len && isSpace(buf[p]!)) p++;
    this.pos = p;
    return p >= len ? -1 : buf[p]!;
  }

  expect(c: number, what: string): void {
    if (this.peek() !== c) this.fail(`expected ${what}, found ${this.describe(this.buf[this.pos]!)}`);
    this.pos++;
  }

  describe(c: number): string {
    if (c >= 0x20 && c < 0x7f) return `'${String.fromCharCode(c)}'`;
    return `byte 0x${c.toString(16).padStart(2, '0')}`;
  }

  /**
   * Reads a string that is likely to repeat (names, categories, phases): plain
   * ASCII strings are looked up in a small direct-mapped cache keyed by a hash
   * of their bytes, so repeated names cost no allocation.
   */
  readCachedString(): string {
    this.lastSlot = -1;
    const buf = this.buf;
    const start = this.pos + 1;
    let p = start;
    const len = this.len;
    let h = 0;
    for (;;) {
      if (p >= len) throw NEED_MORE;
      const c = buf[p]!;
      if (c === QUOTE) break;
      if (c === BACKSLASH || c >= 0x80 || c < 0x20) return this.readString();
      h = (Math.imul(h, 31) + c) | 0;
      p++;
    }
    const n = p - start;
    this.pos = p + 1;
    if (n === 1) return ASCII[buf[start]!]!;
    const slot = (h ^ (h >>> 15) ^ n) & CACHE_MASK;
    const cached = this.cache[slot];
    if (cached !== undefined && cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === buf[start + i]) i++;
      if (i === n) {
        this.lastSlot = slot;
        return cached;
      }
    }
    const str = buf.latin1Slice(start, p);
    this.cache[slot] = str;
    this.argsKept[slot] = 0;
    this.cacheIds[slot] = 0;
    this.lastSlot = slot;
    return str;
  }
  /** Cache slot of the string `readCachedString` returned last, -1 when it was not cached. */
  private lastSlot = -1;
  /** Per cache slot: an event named by the slot's string has kept its args (`args: 'first-per-name'`). */
  private readonly argsKept = new Uint8Array(CACHE_MASK + 1);
  /**
   * Per cache slot: the `nameId` of the slot's string, 0 until an event is named by it. A name
   * numbered once keeps its number when it comes back after an eviction (`numbers`), so there are
   * as many numbers as distinct names, not as cache misses.
   */
  private readonly cacheIds = new Int32Array(CACHE_MASK + 1);
  private readonly numbers = new Map<string, number>();
  private readonly cache: (string | undefined)[] = new Array<string | undefined>(CACHE_MASK + 1).fill(
    undefined,
  );

  /** Reads a string starting at the opening quote; returns its decoded value. */
  readString(): string {
    const buf = this.buf;
    const start = this.pos + 1;
    let p = start;
    const len = this.len;
    let high = false;
    for (;;) {
      if (p >= len) throw NEED_MORE;
      const c = buf[p]!;
      if (c === QUOTE) break;
      if (c === BACKSLASH) return this.readEscapedString(start);
      if (c < 0x20) this.fail('control character in string', p);
      if (c >= 0x80) high = true;
      p++;
    }
    this.pos = p + 1;
    return high ? buf.utf8Slice(start, p) : buf.latin1Slice(start, p);
  }

  private readEscapedString(start: number): string {
    const end = this.skipStringFrom(start);
    this.pos = end;
    try {
      return JSON.parse(this.buf.toString('utf8', start - 1, end)) as string;
    } catch {
      this.fail('invalid escape in string', start - 1);
    }
  }

  /**
   * Returns the offset just past the closing quote of a string whose body starts at `p`.
   * Escapes are checked (`\u` needs four hex digits), so raw text kept for later is valid JSON.
   */
  private skipStringFrom(p: number): number {
    const buf = this.buf;
    const len = this.len;
    for (;;) {
      if (p >= len) throw NEED_MORE;
      const c = buf[p]!;
      if (c === QUOTE) return p + 1;
      if (c === BACKSLASH) {
        if (p + 1 >= len) throw NEED_MORE;
        const e = buf[p + 1]!;
        if (e === 0x75) {
          if (p + 6 > len) throw NEED_MORE;
          for (let i = p + 2; i < p + 6; i++)
            if (!isHex(buf[i]!)) this.fail('invalid \\u escape in string', p);
          p += 6;
        } else if (ESCAPES[e] === 1) p += 2;
        else this.fail('invalid escape in string', p);
      } else {
        if (c < 0x20) this.fail('control character in string', p);
        p++;
      }
    }
  }

  /** Skips any JSON value; returns [start, end) of its text. Validates it, so the raw text always parses. */
  skipValue(): number {
    const c = this.peek();
    const start = this.pos;
    if (c === QUOTE) {
      this.pos = this.skipStringFrom(start + 1);
      return start;
    }
    if (c === LBRACE || c === LBRACKET) {
      this.pos = this.skipComposite(start);
      return start;
    }
    this.skipScalar();
    return start;
  }

  /** Expected closing brackets of the composite being skipped (reused: no allocation per value). */
  private readonly closers: number[] = [];

  /**
   * Skips an object or array starting at `p` and checks its grammar on the way (keys, colons,
   * commas, literals, numbers), iteratively: nesting depth costs no stack.
   */
  private skipComposite(p: number): number {
    const buf = this.buf;
    const len = this.len;
    const closers = this.closers;
    let depth = 0;
    // 0: a value; 1: a value or ']'; 2: a key or '}'; 3: a key; 4: ':'; 5: ',' or the closer.
    let state = 0;
    for (;;) {
      if (p >= len) throw NEED_MORE;
      const c = buf[p]!;
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        p++;
        continue;
      }
      if (state === 5) {
        const closer = closers[depth - 1];
        if (c === COMMA) {
          state = closer === RBRACE ? 3 : 0;
          p++;
        } else if (c === closer) {
          p++;
          if (--depth === 0) return p;
        } else this.fail(`expected ',' or '${String.fromCharCode(closer!)}', found ${this.describe(c)}`, p);
      } else if (state === 4) {
        if (c !== COLON) this.fail(`expected ':', found ${this.describe(c)}`, p);
        state = 0;
        p++;
      } else if (state >= 2) {
        if (c === QUOTE) {
          p = this.skipStringFrom(p + 1);
          state = 4;
        } else if (state === 2 && c === RBRACE) {
          p++;
          if (--depth === 0) return p;
          state = 5;
        } else this.fail(`expected a key, found ${this.describe(c)}`, p);
      } else if (c === QUOTE) {
        p = this.skipStringFrom(p + 1);
        state = 5;
      } else if (c === LBRACE) {
        closers[depth++] = RBRACE;
        state = 2;
        p++;
      } else if (c === LBRACKET) {
        closers[depth++] = RBRACKET;
        state = 1;
        p++;
      } else if (state === 1 && c === RBRACKET) {
        p++;
        if (--depth === 0) return p;
        state = 5;
      } else {
        p = this.skipScalarAt(p);
        state = 5;
      }
    }
  }

  /** Checks a literal or number starting at `p` (inside a composite); returns its end. */
  private skipScalarAt(p: number): number {
    const buf = this.buf;
    const len = this.len;
    const start = p;
    while (p < len) {
      const c = buf[p]!;
      if (c === COMMA || c === RBRACE || c === RBRACKET || c === COLON || isSpace(c)) break;
      p++;
    }
    if (p >= len) throw NEED_MORE;
    if (p === start || !isJsonScalar(buf, start, p)) {
      const text = buf.latin1Slice(start, Math.min(p, start + 20));
      this.fail(
        p === start
          ? `unexpected ${this.describe(buf[p]!)}`
          : `invalid value '${text}${p - start > 20 ? '...' : ''}'`,
        start,
      );
    }
    return p;
  }

  private skipScalar(): void {
    const buf = this.buf;
    const len = this.len;
    let p = this.pos;
    const start = p;
    while (p < len) {
      const c = buf[p]!;
      if (c === COMMA || c === RBRACE || c === RBRACKET || isSpace(c)) break;
      p++;
    }
    if (p >= len) throw NEED_MORE;
    if (p === start) this.fail(`unexpected ${this.describe(buf[p]!)}`);
    const text = buf.latin1Slice(start, p);
    if (text !== 'true' && text !== 'false' && text !== 'null' && !isJsonNumber(text)) {
      this.fail(`invalid value '${text.length > 20 ? text.slice(0, 20) + '...' : text}'`, start);
    }
    this.pos = p;
  }

  /** Raw JSON text of the next value. */
  rawValue(): string {
    const start = this.skipValue();
    return this.buf.utf8Slice(start, this.pos);
  }

  /**
   * Reads a number as an exact split of microseconds into (int, fracNs);
   * returns false if the value is not a plain decimal (then `rawValue` it).
   */
  readSplitTime(out: SplitTime): boolean {
    const buf = this.buf;
    const len = this.len;
    let p = this.pos;
    let neg = false;
    if (buf[p] === MINUS) {
      neg = true;
      p++;
    }
    let int = 0;
    let digits = 0;
    let c = 0;
    while (p < len) {
      c = buf[p]!;
      if (c < 0x30 || c > 0x39) break;
      int = int * 10 + (c - 0x30);
      digits++;
      p++;
    }
    if (p >= len) throw NEED_MORE;
    if (digits === 0) return false;
    let frac = 0;
    if (c === DOT) {
      p++;
      let scale = 100;
      let fracDigits = 0;
      let roundUp = false;
      while (p < len) {
        c = buf[p]!;
        if (c < 0x30 || c > 0x39) break;
        if (scale >= 1) frac += (c - 0x30) * scale;
        else if (scale > 0.05 && c >= 0x35) roundUp = true; // 4th decimal: round half up
        scale /= 10;
        fracDigits++;
        p++;
      }
      if (p >= len) throw NEED_MORE;
      if (fracDigits === 0) return false;
      if (roundUp) frac++;
    }
    if (c === 0x65 || c === 0x45) return false; // exponent: rare, slow path
    if (frac === 1000) {
      int += 1;
      frac = 0;
    }
    this.pos = p;
    out.int = neg ? -int : int;
    out.fracNs = neg ? -frac : frac;
    return true;
  }

  /** Reads one event object starting at `{`. Returns undefined for an element that is not an event. */
  readEvent(): TraceEvent {
    const buf = this.buf;
    this.expect(LBRACE, "'{'");
    let ph = '';
    let name = '';
    let cat = '';
    let dur = NO_DUR;
    let pid: number | string = 0;
    let tid: number | string = 0;
    let id = '';
    let args = '';
    let argsStart = -1;
    let argsEnd = -1;
    let nameSlot = -1;
    let extra: Record<string, string> | undefined;
    this.hasTs = false;
    let c = this.peek();
    if (c === RBRACE) {
      this.pos++;
    } else {
      for (;;) {
        if (c !== QUOTE) this.fail(`expected a field name, found ${this.describe(c)}`);
        // Key: read bytes directly; keys never need unescaping in practice, but handle it.
        const ks = this.pos + 1;
        let p = ks;
        const len = this.len;
        while (p < len && buf[p] !== QUOTE && buf[p] !== BACKSLASH) p++;
        if (p >= len) throw NEED_MORE;
        let key: string;
        let klen = p - ks;
        if (buf[p] === BACKSLASH) {
          key = this.readString();
          klen = -1;
          this.expect(COLON, "':'");
        } else if (buf[p + 1] === COLON) {
          this.pos = p + 2; // the common `"key":` with no spaces
          key = '';
        } else {
          this.pos = p + 1;
          key = '';
          this.expect(COLON, "':'");
        }
        let v = this.pos < this.len ? buf[this.pos]! : -1;
        if (v === -1 || isSpace(v)) v = this.peek();
        const k0 = klen > 0 ? buf[ks]! : 0;
        // Dispatch on length and first byte, then confirm the whole key.
        if (klen === 2 && k0 === 0x70 && buf[ks + 1] === 0x68) {
          ph = v === QUOTE ? this.readCachedString() : this.rawValue();
        } else if (klen === 2 && k0 === 0x74 && buf[ks + 1] === 0x73) {
          this.readTs(v);
        } else if (
          klen === 4 &&
          k0 === 0x6e &&
          buf[ks + 1] === 0x61 &&
          buf[ks + 2] === 0x6d &&
          buf[ks + 3] === 0x65
        ) {
          if (v === QUOTE) {
            name = this.readCachedString();
            nameSlot = this.lastSlot;
          } else name = this.rawValue();
        } else if (klen === 3 && k0 === 0x63 && buf[ks + 1] === 0x61 && buf[ks + 2] === 0x74) {
          if (this.categoriesNeeded) cat = v === QUOTE ? this.readCachedString() : this.rawValue();
          else this.skipValue();
        } else if (klen === 3 && k0 === 0x64 && buf[ks + 1] === 0x75 && buf[ks + 2] === 0x72) {
          dur = this.readDur(v);
        } else if (klen === 3 && k0 === 0x70 && buf[ks + 1] === 0x69 && buf[ks + 2] === 0x64) {
          pid = this.readIdent(v);
        } else if (klen === 3 && k0 === 0x74 && buf[ks + 1] === 0x69 && buf[ks + 2] === 0x64) {
          tid = this.readIdent(v);
        } else if (klen === 2 && k0 === 0x69 && buf[ks + 1] === 0x64) {
          id = this.rawValue();
        } else if (
          klen === 4 &&
          k0 === 0x61 &&
          buf[ks + 1] === 0x72 &&
          buf[ks + 2] === 0x67 &&
          buf[ks + 3] === 0x73
        ) {
          argsStart = this.skipValue();
          argsEnd = this.pos;
        } else {
          if (klen >= 0) key = buf.toString('utf8', ks, ks + klen);
          (extra ??= {})[key] = this.rawValue();
        }
        c = this.pos < this.len ? buf[this.pos]! : -1;
        if (c === -1 || isSpace(c)) c = this.peek();
        if (c === COMMA) {
          this.pos++;
          c = this.pos < this.len ? buf[this.pos]! : -1;
          if (c === -1 || isSpace(c)) c = this.peek();
          continue;
        }
        if (c === RBRACE) {
          this.pos++;
          break;
        }
        this.fail(`expected ',' or '}' in event, found ${this.describe(c)}`);
      }
    }
    // Args are copied out once the phase and name are known: a consumer may not need them.
    if (argsStart >= 0) {
      let keep = true;
      const wanted = this.argsWanted;
      if (wanted !== 'all' && ph !== 'M') {
        if (wanted === 'metadata') keep = false;
        else if (nameSlot >= 0 && this.cache[nameSlot] === name) {
          // 'first-per-name': kept once per cached name (again after an eviction: more, never fewer).
          keep = this.argsKept[nameSlot] === 0;
          this.argsKept[nameSlot] = 1;
        }
      }
      if (keep) args = buf.utf8Slice(argsStart, argsEnd);
    }
    let nameId = 0;
    if (this.nameIds) {
      // Names read through the cache (nearly all) are numbered once per cache fill.
      if (nameSlot >= 0 && this.cache[nameSlot] === name) {
        nameId = this.cacheIds[nameSlot]!;
        if (nameId === 0) this.cacheIds[nameSlot] = nameId = this.numberOf(name);
      } else nameId = this.numberOf(name);
    }
    return { ph, name, cat, ts: NO_TS, dur, pid, tid, id, args, extra, nameId };
  }

  private numberOf(name: string): number {
    let n = this.numbers.get(name);
    if (n === undefined) this.numbers.set(name, (n = this.numbers.size + 1));
    return n;
  }

  private readTs(v: number): void {
    if (v === MINUS || (v >= 0x30 && v <= 0x39)) {
      if (this.readSplitTime(this.time)) {
        this.tsInt = this.time.int;
        this.tsFracNs = this.time.fracNs;
        this.hasTs = true;
        return;
      }
    }
    const raw = this.rawValue();
    const value = raw.startsWith('"') ? Number(JSON.parse(raw)) : Number(raw);
    if (raw === 'null' || !Number.isFinite(value)) return;
    splitMicros(value, this.time);
    this.tsInt = this.time.int;
    this.tsFracNs = this.time.fracNs;
    this.hasTs = true;
  }

  private readDur(v: number): number {
    if ((v === MINUS || (v >= 0x30 && v <= 0x39)) && this.readSplitTime(this.time)) {
      return this.time.int * 1000 + this.time.fracNs;
    }
    const raw = this.rawValue();
    const value = raw.startsWith('"') ? Number(JSON.parse(raw)) : Number(raw);
    return Number.isFinite(value) ? Math.round(value * 1000) : NO_DUR;
  }

  private readIdent(v: number): number | string {
    if (v === QUOTE) return this.readString();
    const buf = this.buf;
    const len = this.len;
    let p = this.pos;
    let n = 0;
    let neg = false;
    if (buf[p] === MINUS) {
      neg = true;
      p++;
    }
    const start = p;
    while (p < len) {
      const c = buf[p]!;
      if (c < 0x30 || c > 0x39) break;
      n = n * 10 + (c - 0x30);
      p++;
    }
    if (p >= len) throw NEED_MORE;
    const c = buf[p]!;
    if (p > start && p - start < 16 && c !== DOT && c !== 0x65 && c !== 0x45) {
      this.pos = p;
      return neg ? -n : n;
    }
    const raw = this.rawValue();
    const value: unknown = JSON.parse(raw);
    return typeof value === 'number' ? value : String(raw);
  }
}

/** Splits a microsecond double into exact-as-possible (int, fracNs). */
export function splitMicros(us: number, out: SplitTime): void {
  const int = Math.trunc(us);
  let frac = Math.round((us - int) * 1000);
  let i = int;
  if (frac >= 1000 || frac <= -1000) {
    i += Math.trunc(frac / 1000);
    frac %= 1000;
  }
  out.int = i;
  out.fracNs = frac;
}

/** 1 for the characters that may follow a backslash, other than `u`. */
const ESCAPES = new Uint8Array(128);
for (const ch of '"\\/bfnrt') ESCAPES[ch.charCodeAt(0)] = 1;

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/** Whether bytes [start, end) are `true`, `false`, `null` or a JSON number. */
function isJsonScalar(buf: Buffer, start: number, end: number): boolean {
  const c = buf[start]!;
  const n = end - start;
  if (c === 0x74)
    return n === 4 && buf[start + 1] === 0x72 && buf[start + 2] === 0x75 && buf[start + 3] === 0x65;
  if (c === 0x66)
    return (
      n === 5 &&
      buf[start + 1] === 0x61 &&
      buf[start + 2] === 0x6c &&
      buf[start + 3] === 0x73 &&
      buf[start + 4] === 0x65
    );
  if (c === 0x6e)
    return n === 4 && buf[start + 1] === 0x75 && buf[start + 2] === 0x6c && buf[start + 3] === 0x6c;
  let p = start;
  if (buf[p] === MINUS) p++;
  if (p >= end) return false;
  if (buf[p] === 0x30) p++;
  else {
    const d0 = p;
    while (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
    if (p === d0) return false;
  }
  if (p < end && buf[p] === DOT) {
    const d0 = ++p;
    while (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
    if (p === d0) return false;
  }
  if (p < end && (buf[p] === 0x65 || buf[p] === 0x45)) {
    p++;
    if (p < end && (buf[p] === 0x2b || buf[p] === MINUS)) p++;
    const d0 = p;
    while (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
    if (p === d0) return false;
  }
  return p === end;
}

const NUMBER_RE = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
function isJsonNumber(text: string): boolean {
  return NUMBER_RE.test(text);
}

export const BYTES = { COMMA, LBRACE, RBRACE, LBRACKET, RBRACKET, QUOTE, COLON };

/**
 * Events that take `readEvent`'s rarer branches: spaces around keys and values (which in real
 * files appear mostly where a chunk ends), a key ending at the buffer's end, an escaped key,
 * fields the model does not type. Read once per process, with each projection, before the first
 * scanner reads input: V8 then optimizes `readEvent` knowing these branches, rather than
 * deoptimizing and recompiling it (the hottest function of every command) each time the input
 * first takes one of them. About 7% off reading the 160 MB benchmark trace.
 */
const RARE_BRANCHES = [
  '{ "ph" : "X" , "name" : "a" , "cat" : "c" , "ts" : 1700000000004242.5 , "dur" : 2 , "pid" : 1 , "tid" : "t" , "id" : "0x1" , "args" : { } , "s" : "g" }',
  '{"ph":"B","name":"b","ts":1700000000004243,"pid":1,"tid":1,"args":{"k":[1,"two",null,true]},"bp":"e"}',
  '{"ph":"M","na\\u006de":"thread_name","pid":1,"tid":1,"args":{"name":"x"}}',
  '{"ph":"i","name":"c","ts":3, "pid":1,"tid":1}',
  '{"ph":"E"',
  '{"ph":"X","name"',
  '{"ph":"X","name":"d","ts":1e3,"dur":0.25,"pid":-1,"tid":2}',
  '{"ph":"X","name":"e","ts":1700000000004244.125,"dur":12.5,"pid":4242,"tid":4243}',
];

let primed = false;

function primeReadEvent(): void {
  const projections: Array<[ArgsWanted, boolean, boolean]> = [
    ['all', true, false],
    ['metadata', false, true],
    ['first-per-name', false, true],
  ];
  for (const [args, categories, nameIds] of projections) {
    const sc = new EventScanner(args, categories, nameIds);
    for (const text of RARE_BRANCHES) {
      sc.reset(Buffer.from(text, 'latin1'), 0);
      try {
        sc.readEvent();
      } catch (err) {
        if (err !== NEED_MORE) throw err;
      }
    }
  }
}
