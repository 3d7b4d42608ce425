/**
 * Which files `viz record` instruments. No dependencies: the preload uses it before the transform
 * is loaded.
 */
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface InstrumentConfig {
  /** viz's package root: its dist/ and node_modules/ are never traced. */
  root: string;
  /** Cache directory for instrumented sources; '' disables the cache. */
  cacheDir: string;
}

const JS_LIKE = /\.(?:[cm]?js|jsx|[cm]?ts|tsx)$/i;

/** Whether a file (absolute path) is traced. Node internals never reach the hooks as paths. */
export function shouldTrace(filename: string, cfg: InstrumentConfig): boolean {
  if (!JS_LIKE.test(filename)) return false;
  const root = cfg.root.endsWith(sep) ? cfg.root : cfg.root + sep;
  if (filename.startsWith(root)) {
    const rel = filename.slice(root.length);
    if (rel.startsWith(`node_modules${sep}`) || rel.startsWith(`dist${sep}`)) return false;
  }
  return true;
}

/** `file:` URLs only: `data:`, `node:` and custom schemes stay untraced. */
export function urlToTracedPath(url: string, cfg: InstrumentConfig): string | undefined {
  if (!url.startsWith('file:')) return undefined;
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch {
    return undefined;
  }
  return shouldTrace(path, cfg) ? path : undefined;
}
