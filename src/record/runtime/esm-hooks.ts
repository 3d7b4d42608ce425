/**
 * ES module load hooks. On Node >= 22.15 they run in-thread (`module.registerHooks`, synchronous);
 * on Node 20 they run in the loader hooks thread (`module.register`), where there is no recorder:
 * the generated code registers its own frames when the module starts, so nothing has to cross
 * threads but the configuration.
 *
 * Each hook calls the next one first, so it sees what the hooks registered before it produced:
 * JavaScript from tsx for `.ts` files. The transform is loaded on the first module to instrument:
 * a CommonJS program never needs it here, and every module load waits for this thread.
 */
import { urlToTracedPath, type InstrumentConfig } from './trace-filter.js';

type InstrumentFile = typeof import('./instrument-file.js').instrumentFile;

interface LoadResult {
  format?: string | null;
  source?: string | ArrayBuffer | ArrayBufferView | null;
  shortCircuit?: boolean;
}

function sourceText(source: NonNullable<LoadResult['source']>): string {
  if (typeof source === 'string') return source;
  const view = ArrayBuffer.isView(source)
    ? Buffer.from(source.buffer, source.byteOffset, source.byteLength)
    : Buffer.from(source);
  return view.toString('utf8');
}

/** What to instrument: the file's path and how to parse it, or undefined to leave the result as it is. */
export function wants(
  url: string,
  result: LoadResult,
  cfg: InstrumentConfig,
  viaLoaderThread: boolean,
): { path: string; sourceType: 'module' | 'script' } | undefined {
  if (result.source == null) return undefined;
  let sourceType: 'module' | 'script';
  // `module` sources are instrumented here. `commonjs` ones only when a hook supplied the source
  // on Node 20 (which then evaluates them without `Module.prototype._compile`); otherwise the
  // CommonJS loader runs them and the `_compile` hook sees them.
  if (result.format === 'module') sourceType = 'module';
  else if (result.format === 'commonjs' && viaLoaderThread) sourceType = 'script';
  else return undefined;
  const path = urlToTracedPath(url, cfg);
  return path === undefined ? undefined : { path, sourceType };
}

/** `result` with its source instrumented, when `wants` says so. */
export function transformLoaded(
  url: string,
  result: LoadResult,
  cfg: InstrumentConfig,
  viaLoaderThread: boolean,
  instrumentFile: InstrumentFile,
): LoadResult {
  const want = wants(url, result, cfg, viaLoaderThread);
  if (!want) return result;
  const out = instrumentFile(sourceText(result.source!), want.path, want.sourceType, cfg);
  return out === undefined ? result : { ...result, source: out };
}

// ---- Node 20: module.register() in the hooks thread --------------------------------------------

let config: InstrumentConfig | undefined;
let instrumentFile: InstrumentFile | undefined;

export async function initialize(data: InstrumentConfig): Promise<void> {
  config = data;
}

export async function load(
  url: string,
  context: object,
  nextLoad: (url: string, context: object) => Promise<LoadResult>,
): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  if (!config || !wants(url, result, config, true)) return result;
  instrumentFile ??= (await import('./instrument-file.js')).instrumentFile;
  return transformLoaded(url, result, config, true, instrumentFile);
}
