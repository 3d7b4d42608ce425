/**
 * `args` JSON text -> DebugAnnotation fields, without building the JSON object first.
 *
 * Events carry their args as raw JSON text; parsing them with JSON.parse only to walk the result
 * once allocates an object per event and was a tenth of the converter's time. This transcoder
 * reads the text and writes protobuf directly, with the same value mapping as `encodeValue`
 * (bool, int64, uint64, double, string, dict, array; `null`, `{}` and `[]` as legacy JSON).
 * Anything it does not understand throws `NotSimple`; the caller then rewinds and uses JSON.parse.
 */
import type { ProtoWriter } from './encoder.js';
import { WT } from './encoder.js';
import { stringifyJson } from '../../model/json.js';

const DEBUG_ANNOTATIONS = 4;
const NAME_IID = 1;
const BOOL = 2;
const UINT = 3;
const INT = 4;
const DOUBLE = 5;
const STRING = 6;
const LEGACY_JSON = 9;
const NAME = 10;
const DICT = 11;
const ARRAY = 12;

export class NotSimple extends Error {}
const NOT_SIMPLE = new NotSimple('args need the JSON.parse path');

/** Nesting kept as dict/array annotations (as `transcodeArgs`); deeper values are written as JSON text. */
const MAX_DEPTH = 64;

/** Writes one JSON value (already parsed) as the value fields of a DebugAnnotation. */
export function encodeValue(w: ProtoWriter, v: unknown, depth = 0): void {
  if (depth >= MAX_DEPTH && v !== null && typeof v === 'object') {
    // No recursion per level: a 100,000-deep value must not overflow the stack.
    w.fieldString(LEGACY_JSON, stringifyJson(v));
    return;
  }
  switch (typeof v) {
    case 'boolean':
      w.fieldBool(BOOL, v);
      return;
    case 'string':
      w.fieldString(STRING, v);
      return;
    case 'number':
      encodeNumber(w, v);
      return;
    case 'object':
      if (v === null) {
        w.fieldString(LEGACY_JSON, 'null');
      } else if (Array.isArray(v)) {
        if (v.length === 0) w.fieldString(LEGACY_JSON, '[]');
        for (const x of v) {
          const m = w.begin(ARRAY);
          encodeValue(w, x, depth + 1);
          w.end(m);
        }
      } else {
        const o = v as Record<string, unknown>;
        let any = false;
        for (const k in o) {
          any = true;
          const m = w.begin(DICT);
          w.fieldString(NAME, k);
          encodeValue(w, o[k], depth + 1);
          w.end(m);
        }
        if (!any) w.fieldString(LEGACY_JSON, '{}');
      }
      return;
    default:
      w.fieldString(LEGACY_JSON, 'null');
  }
}

export function encodeNumber(w: ProtoWriter, v: number): void {
  if (Number.isSafeInteger(v)) w.fieldInt64(INT, v);
  else if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63) {
    w.tag(INT, WT.varint);
    w.varintBig(BigInt.asUintN(64, BigInt(v)));
  } else if (Number.isInteger(v) && v >= 2 ** 63 && v < 2 ** 64) {
    w.tag(UINT, WT.varint);
    w.varintBig(BigInt(v));
  } else w.fieldDouble(DOUBLE, v);
}

/**
 * Encodes the top-level object `text` as TrackEvent.debug_annotations (field 4), names through
 * `nameIid`. Throws `NotSimple` (having written a partial result the caller must rewind) when the
 * text is not a plain JSON object.
 */
export function transcodeArgs(w: ProtoWriter, text: string, nameIid: (key: string) => number): void {
  const t = new Transcoder(w, text);
  t.ws();
  if (t.peek() !== 0x7b) throw NOT_SIMPLE; // {
  t.i++;
  t.ws();
  if (t.peek() === 0x7d) {
    t.i++;
    t.end();
    return;
  }
  for (;;) {
    t.ws();
    if (t.peek() !== 0x22) throw NOT_SIMPLE;
    const key = t.string();
    t.ws();
    if (t.peek() !== 0x3a) throw NOT_SIMPLE; // :
    t.i++;
    const m = w.begin(DEBUG_ANNOTATIONS);
    w.fieldVarint(NAME_IID, nameIid(key));
    t.value(0);
    w.end(m);
    t.ws();
    const c = t.peek();
    t.i++;
    if (c === 0x2c) continue; // ,
    if (c === 0x7d) break; // }
    throw NOT_SIMPLE;
  }
  t.end();
}

class Transcoder {
  i = 0;
  constructor(
    private readonly w: ProtoWriter,
    private readonly s: string,
  ) {}

  peek(): number {
    return this.i < this.s.length ? this.s.charCodeAt(this.i) : -1;
  }

  ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }

  end(): void {
    this.ws();
    if (this.i !== this.s.length) throw NOT_SIMPLE;
  }

  /** A string token at `i` (which is a quote). */
  string(): string {
    const s = this.s;
    const start = this.i + 1;
    let i = start;
    for (;;) {
      if (i >= s.length) throw NOT_SIMPLE;
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.i = i + 1;
        return s.slice(start, i);
      }
      if (c === 0x5c || c < 0x20) break; // escapes and control characters: let JSON.parse decide
      i++;
    }
    // Find the end of the token, then decode it with JSON.parse.
    for (;;) {
      if (i >= s.length) throw NOT_SIMPLE;
      const c = s.charCodeAt(i);
      if (c === 0x5c) i += 2;
      else if (c === 0x22) break;
      else i++;
    }
    const decoded: unknown = JSON.parse(s.slice(start - 1, i + 1));
    this.i = i + 1;
    return decoded as string;
  }

  value(depth: number): void {
    if (depth > 64) throw NOT_SIMPLE;
    const w = this.w;
    this.ws();
    const c = this.peek();
    if (c === 0x22) {
      w.fieldString(STRING, this.string());
    } else if (c === 0x7b) {
      this.i++;
      this.ws();
      if (this.peek() === 0x7d) {
        this.i++;
        w.fieldString(LEGACY_JSON, '{}');
        return;
      }
      for (;;) {
        this.ws();
        if (this.peek() !== 0x22) throw NOT_SIMPLE;
        const key = this.string();
        this.ws();
        if (this.peek() !== 0x3a) throw NOT_SIMPLE;
        this.i++;
        const m = w.begin(DICT);
        w.fieldString(NAME, key);
        this.value(depth + 1);
        w.end(m);
        this.ws();
        const d = this.peek();
        this.i++;
        if (d === 0x2c) continue;
        if (d === 0x7d) return;
        throw NOT_SIMPLE;
      }
    } else if (c === 0x5b) {
      this.i++;
      this.ws();
      if (this.peek() === 0x5d) {
        this.i++;
        w.fieldString(LEGACY_JSON, '[]');
        return;
      }
      for (;;) {
        const m = w.begin(ARRAY);
        this.value(depth + 1);
        w.end(m);
        this.ws();
        const d = this.peek();
        this.i++;
        if (d === 0x2c) continue;
        if (d === 0x5d) return;
        throw NOT_SIMPLE;
      }
    } else if (c === 0x74) {
      this.literal('true');
      w.fieldBool(BOOL, true);
    } else if (c === 0x66) {
      this.literal('false');
      w.fieldBool(BOOL, false);
    } else if (c === 0x6e) {
      this.literal('null');
      w.fieldString(LEGACY_JSON, 'null');
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const s = this.s;
      const start = this.i;
      let i = start + 1;
      for (;;) {
        const d = s.charCodeAt(i);
        if ((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d)
          i++;
        else break;
      }
      const text = s.slice(start, i);
      // JSON's number grammar is stricter than Number(): leading zeros, "1.", ".5", "-" are errors there.
      if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(text)) throw NOT_SIMPLE;
      this.i = i;
      encodeNumber(w, Number(text));
    } else {
      throw NOT_SIMPLE;
    }
  }

  private literal(word: string): void {
    if (!this.s.startsWith(word, this.i)) throw NOT_SIMPLE;
    this.i += word.length;
  }
}
