/**
 * ES module load hooks. On Node >= 22.15 they run in-thread (`module.registerHooks`, synchronous);
 * on Node 20 they run in the loader hooks thread (`module.register`), where there is no recorder:
 * the generated code registers its own frames when the module starts, so nothing has to cross
 * threads but the configuration.
 *
 * Each hook calls the next one first, so it sees what the hooks registered before it produced:
 * JavaScript from tsx for `.ts` files.
 */
import { instrumentFile, urlToTracedPath, type InstrumentConfig } from './instrument-file.js';

let config: InstrumentConfig | undefined;

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

/**
 * `module` sources are instrumented here. `commonjs` ones only when a hook supplied the source
 * and `viaLoaderThread` (Node 20 then evaluates them without `Module.prototype._compile`);
 * otherwise the CommonJS loader runs them and the `_compile` hook sees them.
 */
export function transformLoaded(
  url: string,
  result: LoadResult,
  cfg: InstrumentConfig,
  viaLoaderThread: boolean,
): LoadResult {
  const source = result.source;
  if (source == null) return result;
  let sourceType: 'module' | 'script';
  if (result.format === 'module') sourceType = 'module';
  else if (result.format === 'commonjs' && viaLoaderThread) sourceType = 'script';
  else return result;
  const path = urlToTracedPath(url, cfg);
  if (path === undefined) return result;
  const out = instrumentFile(sourceText(source), path, sourceType, cfg);
  return out === undefined ? result : { ...result, source: out };
}

// ---- Node 20: module.register() in the hooks thread --------------------------------------------

export async function initialize(data: InstrumentConfig): Promise<void> {
  config = data;
}

export async function load(
  url: string,
  context: object,
  nextLoad: (url: string, context: object) => Promise<LoadResult>,
): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  return config ? transformLoaded(url, result, config, true) : result;
}
