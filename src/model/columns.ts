/** Columns of numbers (typed arrays) that grow: a copy of `a` with room for `size` entries. */
export function grown<T extends Uint8Array | Int32Array | Uint32Array | Float64Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}
