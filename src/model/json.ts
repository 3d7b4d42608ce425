/**
 * JSON text of a parsed JSON value at any nesting depth. `JSON.stringify` recurses and throws
 * RangeError somewhere past ten thousand levels, while `JSON.parse` (and the Chrome reader) accept
 * any depth, so a value read from a hostile trace could not be written back. The fallback walks
 * the value with an explicit stack.
 */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return stringifyIterative(value);
  }
}

type Frame = { array: unknown[]; i: number } | { object: Record<string, unknown>; keys: string[]; i: number };

function stringifyIterative(root: unknown): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      out.push('[');
      stack.push({ array: v, i: 0 });
    } else if (v !== null && typeof v === 'object') {
      out.push('{');
      const object = v as Record<string, unknown>;
      stack.push({ object, keys: Object.keys(object).filter((k) => object[k] !== undefined), i: 0 });
    } else {
      out.push(JSON.stringify(v) ?? 'null');
    }
  };
  visit(root);
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    if ('array' in f) {
      if (f.i >= f.array.length) {
        out.push(']');
        stack.pop();
        continue;
      }
      if (f.i > 0) out.push(',');
      visit(f.array[f.i++]);
    } else {
      if (f.i >= f.keys.length) {
        out.push('}');
        stack.pop();
        continue;
      }
      const key = f.keys[f.i++]!;
      out.push(`${f.i > 1 ? ',' : ''}${JSON.stringify(key)}:`);
      visit(f.object[key]);
    }
  }
  return out.join('');
}
