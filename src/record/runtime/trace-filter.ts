/**
 * Which files `viz record` instruments. Loaded by the preload before the transform (and by the
 * ES module hooks thread): its only dependency is picomatch.
 *
 * - viz's own `dist/` and `node_modules/` are never traced;
 * - `--exclude` globs: matching files are not instrumented (they cost nothing);
 * - `--include` globs: when given, only matching files are instrumented;
 * - everything else is traced, the program's `node_modules` included.
 *
 * A glob matches a file when it matches its absolute path or its path relative to the directory
 * `viz record` ran in (`base`), e.g. `src/**`, `**\/node_modules/**`, `/abs/dir/*.js`.
 */
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import picomatch from 'picomatch';

export interface InstrumentConfig {
  /** viz's package root: its dist/ and node_modules/ are never traced. */
  root: string;
  /** Cache directory for instrumented sources; '' disables the cache. */
  cacheDir: string;
  /** Globs of files to trace (none: every file). */
  include?: string[];
  /** Globs of files never to trace. */
  exclude?: string[];
  /** Directory relative globs are matched from (default: the process's working directory). */
  base?: string;
  /** Sparse mode: only functions with these names are instrumented. */
  only?: string[];
  /** Value logging (`--log-args`, `--log-return`, `--log-exceptions`); all off by default. */
  log?: { args?: boolean; return?: boolean; exceptions?: boolean };
}

const JS_LIKE = /\.(?:[cm]?js|jsx|[cm]?ts|tsx)$/i;

type Matcher = (path: string) => boolean;
const compiled = new WeakMap<InstrumentConfig, { inc?: Matcher; exc?: Matcher }>();

function matcher(globs: string[] | undefined): Matcher | undefined {
  if (!globs || globs.length === 0) return undefined;
  return picomatch(globs, { dot: true });
}

function matchers(cfg: InstrumentConfig): { inc?: Matcher; exc?: Matcher } {
  let m = compiled.get(cfg);
  if (!m) {
    m = { inc: matcher(cfg.include), exc: matcher(cfg.exclude) };
    compiled.set(cfg, m);
  }
  return m;
}

/** Whether a file (absolute path) is traced. Node internals never reach the hooks as paths. */
export function shouldTrace(filename: string, cfg: InstrumentConfig): boolean {
  if (!JS_LIKE.test(filename)) return false;
  const root = cfg.root.endsWith(sep) ? cfg.root : cfg.root + sep;
  if (filename.startsWith(root)) {
    const rel = filename.slice(root.length);
    if (rel.startsWith(`node_modules${sep}`) || rel.startsWith(`dist${sep}`)) return false;
  }
  const { inc, exc } = matchers(cfg);
  if (!inc && !exc) return true;
  const rel = relative(cfg.base ?? process.cwd(), filename)
    .split(sep)
    .join('/');
  const abs = filename.split(sep).join('/');
  if (exc && (exc(abs) || exc(rel))) return false;
  if (inc && !(inc(abs) || inc(rel))) return false;
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

/** The filter part of the configuration, from the variables `viz record` sets. */
export function filterConfigFromEnv(
  env: NodeJS.ProcessEnv,
): Pick<InstrumentConfig, 'include' | 'exclude' | 'base' | 'only'> {
  const list = (v: string | undefined): string[] | undefined => {
    if (!v) return undefined;
    try {
      const a = JSON.parse(v) as unknown;
      return Array.isArray(a) ? a.filter((x): x is string => typeof x === 'string') : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    include: list(env.VIZ_INCLUDE),
    exclude: list(env.VIZ_EXCLUDE),
    base: env.VIZ_FILTER_BASE || undefined,
    only: list(env.VIZ_FUNCTIONS),
  };
}
