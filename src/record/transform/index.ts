/**
 * Load-time source instrumentation for `viz record`: a pure function from
 * source text to instrumented text + source map + frame list. See README.md
 * in this folder for the generated code and the runtime contract.
 */
export {
  instrument,
  type InstrumentOptions,
  type TransformResult,
  type SkippedFunction,
} from './instrument.js';
export { stripInstrumentation, RUNTIME_GLOBAL, PROLOGUE_MARK } from './fragments.js';
export { FRAME_KINDS, unpackFrames, type FrameInfo, type FrameKind, type PackedFrames } from './frames.js';
export { instrumentCached, cacheKey } from './cache.js';
export { readInlineSourceMap, inlineSourceMapComment } from './sourcemap.js';

/** Changes whenever the generated code changes; part of the on-disk cache key. */
export { TRANSFORM_VERSION } from './version.js';
