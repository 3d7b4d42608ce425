/**
 * Inline source-map comments, for the loader: read the map a previous loader (tsx)
 * left in the code, and append ours so that `--enable-source-maps` /
 * `process.setSourceMapsEnabled(true)` maps stack traces to the original source.
 * Node uses the last `sourceMappingURL` comment of a file, so the old one may stay.
 */

const INLINE_RE =
  /\/[*/][#@]\s*sourceMappingURL=data:application\/json(?:;charset=[\w-]+)?;base64,([A-Za-z0-9+/=]+)/g;

/** The map of the last inline base64 `sourceMappingURL` comment of `code`, or null. */
export function readInlineSourceMap(code: string): object | null {
  const at = code.lastIndexOf('sourceMappingURL=data:');
  if (at === -1) return null;
  INLINE_RE.lastIndex = Math.max(0, at - 8);
  let last: RegExpExecArray | null = null;
  for (let m = INLINE_RE.exec(code); m; m = INLINE_RE.exec(code)) last = m;
  if (!last?.[1]) return null;
  try {
    const map = JSON.parse(Buffer.from(last[1], 'base64').toString('utf8')) as unknown;
    return typeof map === 'object' && map !== null ? map : null;
  } catch {
    return null;
  }
}

/** A comment to append to instrumented code (starts with a newline: it adds no line before it). */
export function inlineSourceMapComment(map: object): string {
  return `\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
}
