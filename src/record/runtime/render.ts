/**
 * Bounded, safe rendering of JavaScript values as JSON text, for the arguments and return values
 * that `viz record --log-args/--log-return` and the tracing API store beside trace events.
 *
 * This runs inside the traced program, on every traced call when enabled, so it:
 * - never runs program code: no getter, setter, Proxy trap, toString/toJSON/valueOf/
 *   Symbol.toPrimitive/inspect, no `Error.prepareStackTrace` (an error's `stack` is never read);
 *   the built-ins it calls are captured at module load, so later monkey-patching of
 *   `String.prototype`, `Map.prototype`, `JSON`, ... has no effect on it;
 * - never throws: a value that fails to render anyway becomes `"[unrenderable]"`;
 * - costs O(limits), not O(size of the value): a 10 MB string or a 1M-element typed array is
 *   read only up to the limits (an object's own enumerable keys are listed once, though).
 *
 * The result is JSON text (valid for `JSON.parse`) ready to go into Chrome trace `args`.
 */
import { types } from 'node:util';

export interface RenderLimits {
  /** Nesting levels below the rendered value whose contents are shown. */
  depth: number;
  /** UTF-16 units kept of a string (longer ones are cut with a "…(+N chars)" suffix). */
  string: number;
  /** Elements / entries / properties shown per array, object, Map, Set or typed array. */
  items: number;
  /** About the largest JSON text produced; past it, remaining values become "…". */
  total: number;
}

export const DEFAULT_LIMITS: RenderLimits = { depth: 3, string: 200, items: 20, total: 4096 };

// ---- built-ins captured at load (the traced program may replace them later) ----

const FunctionPrototype = Function.prototype;
const uncurryThis = FunctionPrototype.bind.bind(FunctionPrototype.call) as <A extends unknown[], R>(
  fn: (...args: A) => R,
) => (self: unknown, ...args: A) => R;

function intrinsicGetter(proto: object, key: PropertyKey): (self: unknown) => unknown {
  const d = Reflect.getOwnPropertyDescriptor(proto, key);
  const get = d?.get;
  if (get === undefined) throw new Error(`render: no intrinsic getter ${String(key)}`);
  return uncurryThis(get as () => unknown);
}

const ObjectKeys = Object.keys;
const ObjectGetPrototypeOf = Object.getPrototypeOf as (o: object) => object | null;
const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const ObjectHasOwn = Object.hasOwn;
const ObjectPrototype = Object.prototype;
const ArrayIsArray = Array.isArray;
const JSONStringify = JSON.stringify;
const NumberIsFinite = Number.isFinite;
const MathFloor = Math.floor;
const StringPrototypeSlice = uncurryThis(String.prototype.slice);
const StringPrototypeCharCodeAt = uncurryThis(String.prototype.charCodeAt);
const StringPrototypeStartsWith = uncurryThis(String.prototype.startsWith as (s: string) => boolean);
const FunctionPrototypeToString = uncurryThis(FunctionPrototype.toString);
const SymbolPrototypeToString = uncurryThis(Symbol.prototype.toString);
const NumberPrototypeValueOf = uncurryThis(Number.prototype.valueOf);
const StringPrototypeValueOf = uncurryThis(String.prototype.valueOf);
const BooleanPrototypeValueOf = uncurryThis(Boolean.prototype.valueOf);
const BigIntPrototypeValueOf = uncurryThis(BigInt.prototype.valueOf);
const SymbolPrototypeValueOf = uncurryThis(Symbol.prototype.valueOf);
const DatePrototypeGetTime = uncurryThis(Date.prototype.getTime);
const DatePrototypeToISOString = uncurryThis(Date.prototype.toISOString);
const ErrorPrototype = Error.prototype;
const BufferPrototype: object = Buffer.prototype;
const Uint8ArrayCtor = Uint8Array;

const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype) as object;
const TypedArrayLength = intrinsicGetter(TypedArrayPrototype, 'length') as (t: unknown) => number;
const TypedArrayName = intrinsicGetter(TypedArrayPrototype, Symbol.toStringTag) as (t: unknown) => string;
const ArrayBufferByteLength = intrinsicGetter(ArrayBuffer.prototype, 'byteLength') as (b: unknown) => number;
const SharedArrayBufferByteLength = intrinsicGetter(SharedArrayBuffer.prototype, 'byteLength') as (
  b: unknown,
) => number;
const DataViewBuffer = intrinsicGetter(DataView.prototype, 'buffer') as (d: unknown) => ArrayBufferLike;
const DataViewByteOffset = intrinsicGetter(DataView.prototype, 'byteOffset') as (d: unknown) => number;
const DataViewByteLength = intrinsicGetter(DataView.prototype, 'byteLength') as (d: unknown) => number;
const MapSize = intrinsicGetter(Map.prototype, 'size') as (m: unknown) => number;
const SetSize = intrinsicGetter(Set.prototype, 'size') as (s: unknown) => number;
const MapPrototypeEntries = uncurryThis(Map.prototype.entries) as (m: unknown) => object;
const SetPrototypeValues = uncurryThis(Set.prototype.values) as (s: unknown) => object;
const MapIteratorNext = uncurryThis(
  (ObjectGetPrototypeOf(new Map().entries()) as { next: () => IteratorResult<unknown> }).next,
) as (it: object) => IteratorResult<unknown>;
const SetIteratorNext = uncurryThis(
  (ObjectGetPrototypeOf(new Set().values()) as { next: () => IteratorResult<unknown> }).next,
) as (it: object) => IteratorResult<unknown>;
const RegExpSource = intrinsicGetter(RegExp.prototype, 'source') as (r: unknown) => string;
/** The flag getters in the order `RegExp.prototype.flags` lists them (not `flags` itself: it reads
 * the flags through ordinary, overridable property lookups). */
const RegExpFlags: [string, (r: unknown) => unknown][] = [];
for (const [flag, key] of [
  ['d', 'hasIndices'],
  ['g', 'global'],
  ['i', 'ignoreCase'],
  ['m', 'multiline'],
  ['s', 'dotAll'],
  ['u', 'unicode'],
  ['v', 'unicodeSets'],
  ['y', 'sticky'],
] as const) {
  if (Reflect.getOwnPropertyDescriptor(RegExp.prototype, key)?.get !== undefined) {
    RegExpFlags[RegExpFlags.length] = [flag, intrinsicGetter(RegExp.prototype, key)];
  }
}

const {
  isProxy,
  isModuleNamespaceObject,
  isArrayBufferView,
  isAnyArrayBuffer,
  isSharedArrayBuffer,
  isDataView,
  isMap,
  isSet,
  isWeakMap,
  isWeakSet,
  isPromise,
  isDate,
  isRegExp,
  isNativeError,
  isBoxedPrimitive,
  isNumberObject,
  isStringObject,
  isBooleanObject,
  isBigIntObject,
  isSymbolObject,
  isGeneratorObject,
  isMapIterator,
  isSetIterator,
} = types;

/** Deepest nesting honoured whatever `limits.depth` says (keeps the recursion shallow). */
const MAX_DEPTH = 64;
/** Longest prototype chain walked when looking for Error.prototype or an error's `name`. */
const MAX_CHAIN = 32;
const ELLIPSIS = '"…"';
const UNRENDERABLE = '"[unrenderable]"';

// ---- per-call state (rendering never runs program code, so it cannot be re-entered) ----

let out = '';
let total = 0;
let maxDepth = 0;
let strLimit = 0;
let items = 0;
/** Objects being rendered, outermost first (for "[Circular]"); own slots, never grown. */
const ancestors: unknown[] = new Array<unknown>(MAX_DEPTH + 2).fill(undefined);
let nAncestors = 0;

function begin(limits: RenderLimits | undefined): void {
  const l = limits ?? DEFAULT_LIMITS;
  out = '';
  total = l.total > 0 ? l.total : 0;
  maxDepth = l.depth >= 0 ? (l.depth < MAX_DEPTH ? MathFloor(l.depth) : MAX_DEPTH) : 0;
  strLimit = l.string >= 0 ? MathFloor(l.string) : 0;
  items = l.items >= 0 ? MathFloor(l.items) : 0;
  nAncestors = 0;
}

function end(): string {
  const s = out;
  out = '';
  for (let i = 0; i < nAncestors; i++) ancestors[i] = undefined;
  nAncestors = 0;
  return s;
}

/** Budget spent: containers stop adding entries. */
function spent(): boolean {
  return out.length >= total;
}

// ---- strings ----

/** `s` cut to at most `limit` UTF-16 units (a surrogate pair is never split), with a suffix
 * telling how many were cut; O(limit). */
function cut(s: string, limit: number): string {
  if (s.length <= limit) return s;
  let n = limit;
  if (n > 0) {
    const c = StringPrototypeCharCodeAt(s, n - 1);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return `${StringPrototypeSlice(s, 0, n)}…(+${s.length - n} chars)`;
}

/** JSON text of `s` cut to the string limit and to what is left of the budget. */
function jsonString(s: string): string {
  const left = total - out.length;
  if (left <= 0) return ELLIPSIS;
  const limit = strLimit < left ? strLimit : left;
  const j = JSONStringify(cut(s, limit));
  // Escapes (\n, \u0001, ...) can make the JSON text up to 6x the kept units: cut again.
  if (j.length > left + 24 && limit > 0) {
    return JSONStringify(cut(s, MathFloor((limit * left) / j.length)));
  }
  return j;
}

// ---- primitives ----

function renderPrimitive(value: unknown): string {
  switch (typeof value) {
    case 'number':
      if (NumberIsFinite(value)) return `${value}`; // -0 prints as 0
      return value !== value ? '"NaN"' : value > 0 ? '"Infinity"' : '"-Infinity"';
    case 'string':
      return jsonString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return '"undefined"';
    case 'bigint':
      return jsonString(`${value}n`);
    case 'symbol':
      return jsonString(SymbolPrototypeToString(value));
    default:
      return 'null';
  }
}

function primitiveText(value: unknown): string {
  // For inside a "Name(n) [a, b]" style string: no JSON quoting.
  switch (typeof value) {
    case 'bigint':
      return `${value}n`;
    case 'number':
      return NumberIsFinite(value)
        ? `${value}`
        : value !== value
          ? 'NaN'
          : value > 0
            ? 'Infinity'
            : '-Infinity';
    default:
      return `${value as string}`;
  }
}

// ---- reflection without program code ----

/** Own data property `key` of a non-Proxy object, or undefined. */
function ownData(o: object, key: PropertyKey): { value: unknown } | undefined {
  const d = ObjectGetOwnPropertyDescriptor(o, key);
  if (d === undefined || !ObjectHasOwn(d, 'value')) return undefined;
  return d as { value: unknown };
}

/** The name of the constructor of a prototype, when it is a data property, else undefined. */
function constructorName(proto: object | null): string | undefined {
  if (proto === null || isProxy(proto)) return undefined;
  const c = ownData(proto, 'constructor');
  if (c === undefined) return undefined;
  const ctor = c.value;
  if (typeof ctor !== 'function' || isProxy(ctor)) return undefined;
  const n = ownData(ctor, 'name');
  if (n === undefined || typeof n.value !== 'string' || n.value === '') return undefined;
  return n.value;
}

/** Whether `target` is on the prototype chain of `o` (walked without Proxy traps). */
function chainHas(o: object, target: object): boolean {
  let p = ObjectGetPrototypeOf(o);
  for (let i = 0; p !== null && i < MAX_CHAIN; i++) {
    if (p === target) return true;
    if (isProxy(p)) return false;
    p = ObjectGetPrototypeOf(p);
  }
  return false;
}

function accessorText(d: PropertyDescriptor): string {
  const get = ObjectHasOwn(d, 'get') ? d.get : undefined;
  const set = ObjectHasOwn(d, 'set') ? d.set : undefined;
  return get !== undefined ? (set !== undefined ? '"[Getter/Setter]"' : '"[Getter]"') : '"[Setter]"';
}

// ---- values ----

/** Renders `value` at nesting `level` (the root is 0) and appends it to `out`. */
function put(value: unknown, level: number): void {
  if ((typeof value !== 'object' || value === null) && typeof value !== 'function') {
    out += renderPrimitive(value);
    return;
  }
  const start = out.length;
  try {
    putObject(value, level);
  } catch {
    out = StringPrototypeSlice(out, 0, start) + UNRENDERABLE;
  }
}

function putObject(value: object, level: number): void {
  if (isProxy(value)) {
    out += '"[Proxy]"';
    return;
  }
  if (typeof value === 'function') {
    out += renderFunction(value);
    return;
  }
  if (value === globalThis) {
    out += '"[global]"';
    return;
  }
  for (let i = 0; i < nAncestors; i++) {
    if (ancestors[i] === value) {
      out += '"[Circular]"';
      return;
    }
  }
  if (ArrayIsArray(value)) {
    putArray(value as unknown[], level);
    return;
  }
  if (isArrayBufferView(value)) {
    out += jsonString(isDataView(value) ? renderDataView(value) : renderTypedArray(value));
    return;
  }
  if (isAnyArrayBuffer(value)) {
    out += jsonString(renderArrayBuffer(value));
    return;
  }
  const proto = ObjectGetPrototypeOf(value);
  if (proto === ObjectPrototype || (proto === null && !isModuleNamespaceObject(value))) {
    // Plain and null-prototype objects: by far the most common case, no further type checks.
    putProperties(value, level, undefined, false);
    return;
  }
  if (proto === null) {
    out += '"[Module]"'; // its bindings may be uninitialized: reading them would throw
  } else if (isMap(value)) {
    putCollection(value, level, true);
  } else if (isSet(value)) {
    putCollection(value, level, false);
  } else if (isDate(value)) {
    const t = DatePrototypeGetTime(value);
    out += t === t ? `"${DatePrototypeToISOString(value)}"` : '"Invalid Date"';
  } else if (isRegExp(value)) {
    let flags = '';
    for (let i = 0; i < RegExpFlags.length; i++) {
      const f = RegExpFlags[i] as [string, (r: unknown) => unknown];
      if (f[1](value) === true) flags += f[0];
    }
    out += jsonString(`/${RegExpSource(value)}/${flags}`);
  } else if (isNativeError(value) || chainHas(value, ErrorPrototype)) {
    putProperties(value, level, errorName(value, proto), true);
  } else if (isBoxedPrimitive(value)) {
    out += jsonString(renderBoxed(value));
  } else if (isPromise(value)) {
    out += '"[Promise]"';
  } else if (isWeakMap(value)) {
    out += '"[WeakMap]"';
  } else if (isWeakSet(value)) {
    out += '"[WeakSet]"';
  } else if (isGeneratorObject(value)) {
    out += '"[Generator]"';
  } else if (isMapIterator(value)) {
    out += '"[Map Iterator]"';
  } else if (isSetIterator(value)) {
    out += '"[Set Iterator]"';
  } else {
    putProperties(value, level, constructorName(proto), false);
  }
}

function renderFunction(fn: object): string {
  const n = ownData(fn, 'name');
  const name = n !== undefined && typeof n.value === 'string' && n.value !== '' ? n.value : undefined;
  // Class constructors have a read-only `prototype`; only those need their source's first word.
  const p = ownData(fn, 'prototype') as PropertyDescriptor | undefined;
  if (
    p !== undefined &&
    p.writable === false &&
    StringPrototypeStartsWith(FunctionPrototypeToString(fn as () => void), 'class')
  ) {
    return jsonString(name === undefined ? '[class (anonymous)]' : `[class ${cut(name, strLimit)}]`);
  }
  return jsonString(name === undefined ? '[Function (anonymous)]' : `[Function ${cut(name, strLimit)}]`);
}

function putArray(arr: unknown[], level: number): void {
  const length = arr.length; // own data property of every Array exotic object
  if (level > maxDepth) {
    out += `"[Array(${length})]"`;
    return;
  }
  ancestors[nAncestors++] = arr;
  out += '[';
  const shown = length < items ? length : items;
  let i = 0;
  for (; i < shown; i++) {
    if (i > 0) out += ',';
    if (spent()) {
      out += ELLIPSIS;
      break;
    }
    const d = ObjectGetOwnPropertyDescriptor(arr, i);
    if (d === undefined) out += '"<empty>"';
    else if (ObjectHasOwn(d, 'value')) put(d.value, level + 1);
    else out += accessorText(d);
  }
  if (i === shown && length > shown) {
    if (shown > 0) out += ',';
    out += spent() ? ELLIPSIS : `"…+${length - shown} more"`;
  }
  out += ']';
  ancestors[--nAncestors] = undefined;
}

/** Objects and errors: `{"@type": type, ...own enumerable string-keyed properties}`. */
function putProperties(o: object, level: number, type: string | undefined, error: boolean): void {
  if (level > maxDepth) {
    out += '"[Object]"';
    return;
  }
  ancestors[nAncestors++] = o;
  out += '{';
  let first = true;
  if (type !== undefined) {
    out += `"@type":${jsonString(type)}`;
    first = false;
  }
  if (error) {
    // `message` and `cause` are not enumerable; `stack` is never read (its first read formats the
    // stack trace, which runs Error.prepareStackTrace).
    for (let k = 0; k < 2; k++) {
      const key = k === 0 ? 'message' : 'cause';
      const d = ObjectGetOwnPropertyDescriptor(o, key);
      if (d === undefined || d.enumerable === true) continue;
      if (!first) out += ',';
      first = false;
      out += `"${key}":`;
      if (ObjectHasOwn(d, 'value')) put(d.value, level + 1);
      else out += accessorText(d);
    }
  }
  const keys = ObjectKeys(o);
  const length = keys.length;
  let shown = 0;
  let stopped = false;
  for (let i = 0; i < length; i++) {
    const key = keys[i] as string;
    if (error && key === 'stack') continue;
    if (shown === items) break;
    if (!first) out += ',';
    first = false;
    if (spent()) {
      out += `${ELLIPSIS}:${ELLIPSIS}`;
      stopped = true;
      break;
    }
    const d = ObjectGetOwnPropertyDescriptor(o, key);
    out += `${jsonString(key)}:`;
    if (d === undefined) out += '"undefined"';
    else if (ObjectHasOwn(d, 'value')) put(d.value, level + 1);
    else out += accessorText(d);
    shown++;
  }
  if (!stopped && shown === items) {
    let rest = 0;
    for (let i = 0; i < length; i++) if (!(error && keys[i] === 'stack')) rest++;
    rest -= shown;
    if (rest > 0) {
      if (!first) out += ',';
      out += spent() ? `${ELLIPSIS}:${ELLIPSIS}` : `"…":"+${rest} more"`;
    }
  }
  out += '}';
  ancestors[--nAncestors] = undefined;
}

function errorName(e: object, proto: object | null): string {
  let o: object | null = e;
  for (let i = 0; o !== null && i < MAX_CHAIN; i++) {
    if (isProxy(o)) break;
    const d = ObjectGetOwnPropertyDescriptor(o, 'name');
    if (d !== undefined) {
      if (ObjectHasOwn(d, 'value') && typeof d.value === 'string' && d.value !== '') return d.value;
      break;
    }
    o = ObjectGetPrototypeOf(o);
  }
  return constructorName(proto) ?? 'Error';
}

function putCollection(c: object, level: number, map: boolean): void {
  const size = map ? MapSize(c) : SetSize(c);
  if (level > maxDepth) {
    out += map ? '"[Map]"' : '"[Set]"';
    return;
  }
  ancestors[nAncestors++] = c;
  out += `{"@type":${map ? '"Map"' : '"Set"'},"size":${size},${map ? '"entries"' : '"values"'}:[`;
  const it = map ? MapPrototypeEntries(c) : SetPrototypeValues(c);
  const next = map ? MapIteratorNext : SetIteratorNext;
  let i = 0;
  for (; i < items; i++) {
    const r = next(it);
    if (r.done === true) break;
    if (i > 0) out += ',';
    if (spent()) {
      out += ELLIPSIS;
      i = -1;
      break;
    }
    if (map) {
      const pair = r.value as [unknown, unknown];
      out += '[';
      put(pair[0], level + 1);
      out += ',';
      put(pair[1], level + 1);
      out += ']';
    } else {
      put(r.value, level + 1);
    }
  }
  if (i >= 0 && size > i) {
    if (i > 0) out += ',';
    out += spent() ? ELLIPSIS : `"…+${size - i} more"`;
  }
  out += ']}';
  ancestors[--nAncestors] = undefined;
}

function listElements(view: ArrayLike<unknown>, length: number): string {
  const shown = length < items ? length : items;
  let s = '';
  for (let i = 0; i < shown; i++) {
    if (i > 0) s += ', ';
    s += primitiveText(view[i]);
  }
  if (length > shown) s += shown > 0 ? ', …' : '…';
  return s;
}

function renderTypedArray(t: object): string {
  const length = TypedArrayLength(t);
  const name = chainHas(t, BufferPrototype) ? 'Buffer' : TypedArrayName(t);
  // Integer-indexed element reads go to the buffer, never to the prototype chain.
  return `${name}(${length}) [${listElements(t as ArrayLike<unknown>, length)}]`;
}

function renderArrayBuffer(b: object): string {
  const shared = isSharedArrayBuffer(b);
  const length = shared ? SharedArrayBufferByteLength(b) : ArrayBufferByteLength(b);
  const bytes = length === 0 ? [] : new Uint8ArrayCtor(b as ArrayBuffer, 0, length < items ? length : items);
  return `${shared ? 'SharedArrayBuffer' : 'ArrayBuffer'}(${length}) [${listElements(bytes, length)}]`;
}

function renderDataView(d: object): string {
  const length = DataViewByteLength(d);
  const bytes =
    length === 0
      ? []
      : new Uint8ArrayCtor(DataViewBuffer(d), DataViewByteOffset(d), length < items ? length : items);
  return `DataView(${length}) [${listElements(bytes, length)}]`;
}

function renderBoxed(b: object): string {
  if (isNumberObject(b)) return `[Number: ${primitiveText(NumberPrototypeValueOf(b))}]`;
  if (isStringObject(b)) return `[String: ${cut(StringPrototypeValueOf(b), strLimit)}]`;
  if (isBooleanObject(b)) return `[Boolean: ${BooleanPrototypeValueOf(b) ? 'true' : 'false'}]`;
  if (isBigIntObject(b)) return `[BigInt: ${BigIntPrototypeValueOf(b)}n]`;
  if (isSymbolObject(b)) return `[Symbol: ${SymbolPrototypeToString(SymbolPrototypeValueOf(b))}]`;
  return '[Object]';
}

// ---- API ----

/** JSON text of a JSON value standing for `value`, within the limits. Never throws, never runs
 * program code. */
export function renderValue(value: unknown, limits?: RenderLimits): string {
  try {
    begin(limits);
    put(value, 0);
    return end();
  } catch {
    end();
    return UNRENDERABLE;
  }
}

/** JSON text of an object {name: rendering} for parallel arrays of names and values (function
 * arguments). Values without a name are keyed by their index; at most `limits.items` are shown. */
export function renderNamed(
  names: readonly string[],
  values: ArrayLike<unknown>,
  limits?: RenderLimits,
): string {
  try {
    begin(limits);
    if (isProxy(values)) return '{}';
    const lengthData = ownData(values, 'length');
    const length = typeof lengthData?.value === 'number' ? lengthData.value : 0;
    const shown = length < items ? length : items;
    out += '{';
    let i = 0;
    for (; i < shown; i++) {
      if (i > 0) out += ',';
      if (spent()) {
        out += `${ELLIPSIS}:${ELLIPSIS}`;
        i = -1;
        break;
      }
      const n = i < names.length ? names[i] : undefined;
      out += `${jsonString(typeof n === 'string' ? n : `${i}`)}:`;
      const d = ObjectGetOwnPropertyDescriptor(values, i);
      if (d === undefined) out += '"undefined"';
      else if (ObjectHasOwn(d, 'value')) put(d.value, 0);
      else out += accessorText(d);
    }
    if (i >= 0 && length > shown) {
      if (shown > 0) out += ',';
      out += `"…":"+${length - shown} more"`;
    }
    out += '}';
    return end();
  } catch {
    end();
    return '{}';
  }
}
