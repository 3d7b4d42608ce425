/**
 * The one load-time step shared by every hook (CommonJS `_compile`, ESM load hooks in-thread or in
 * Node 20's hooks thread): decide whether a file is traced, read the input source map a
 * compiler (tsx) left inline, instrument (through the disk cache) and attach the composed map
 * inline so stack traces and `--enable-source-maps` point at the original lines and columns.
 */
import {
  inlineSourceMapComment,
  instrument,
  instrumentCached,
  readInlineSourceMap,
} from '../transform/index.js';
import { PROLOGUE_MARK } from '../transform/fragments.js';
import type { InstrumentConfig } from './trace-filter.js';

export { shouldTrace, urlToTracedPath, type InstrumentConfig } from './trace-filter.js';

/** Counters for the process's summary (files instrumented, files that failed to parse). */
export const loadStats = { instrumented: 0, failed: 0, firstFailure: '' };

/**
 * The instrumented text for `source`, or undefined to run it unchanged (untraced path, already
 * instrumented, or a parse failure: the program must still run).
 */
export function instrumentFile(
  source: string,
  filename: string,
  sourceType: 'script' | 'module',
  cfg: InstrumentConfig,
): string | undefined {
  if (source.includes(PROLOGUE_MARK)) return undefined;
  // A compiler's inline map (tsx) is the input map; its comment may stay: Node uses the last one.
  const inputMap = readInlineSourceMap(source);
  try {
    const options = { filename, sourceType, inputMap, only: cfg.only, log: cfg.log };
    const result = cfg.cacheDir
      ? instrumentCached(source, options, cfg.cacheDir)
      : instrument(source, options);
    if (result.frames.length === 0 && result.map === null) return undefined;
    loadStats.instrumented++;
    return result.map ? result.code + inlineSourceMapComment(result.map) : result.code;
  } catch (err) {
    loadStats.failed++;
    if (!loadStats.firstFailure) loadStats.firstFailure = `${filename}: ${(err as Error).message}`;
    return undefined;
  }
}
