import type { Diagnostics } from './diagnostics.js';
import type { EventBatch, Ident } from './event.js';

/** Everything about a trace that is not an event. Complete only once reading has finished. */
export interface TraceMeta {
  /** Format name from the registry, e.g. `chrome-json`, `ring`, `perfetto`. */
  format: string;
  /** Integer microseconds that event `ts` values are relative to. */
  baseUs: number;
  /**
   * Top-level keys other than the events, in input order, as parsed JSON values
   * (Chrome object form: `metadata`, `otherData`, `displayTimeUnit`, `stackFrames`,
   * `viztracer_metadata`, ...). Writers of formats that can carry them keep them.
   */
  topLevel: Record<string, unknown>;
  /** Whether the Chrome input was a bare array (kept so `convert --to chrome` can preserve it). */
  container?: 'array' | 'object';
  /** Process and thread names known from the container (ring dumps); `M` events carry the rest. */
  processNames: Map<Ident, string>;
  /** Keyed by `threadKey(pid, tid)`. */
  threadNames: Map<string, string>;
}

export function emptyMeta(format: string): TraceMeta {
  return { format, baseUs: 0, topLevel: {}, processNames: new Map(), threadNames: new Map() };
}

/**
 * - `all`: every event's args;
 * - `metadata`: only `M` events' (thread and process names);
 * - `first-per-name`: `M` events' and at least the first event of each name (where a producer put
 *   a function's source location).
 */
export type ArgsWanted = 'all' | 'metadata' | 'first-per-name';

/** What a consumer tells a reader it can do without (readers that gain nothing ignore it). */
export interface ReadOptions {
  /**
   * Which events' `args` text the consumer reads; the others may get `args` '' instead of a copy
   * of the text (which is still checked). Default 'all'. Analysers need args only on a few events.
   */
  args?: ArgsWanted;
  /** False when the consumer never reads `cat`: readers may leave it empty. */
  categoriesNeeded?: boolean;
  /** Number the names (`TraceEvent.nameId`), for consumers that group by name; readers may ignore it. */
  nameIds?: boolean;
}

/**
 * What every reader returns. Iterate `batches()` once; `meta` and `diagnostics`
 * are filled in as reading proceeds and are final when the iteration ends.
 */
export interface TraceSource {
  readonly meta: TraceMeta;
  readonly diagnostics: Diagnostics;
  /** Input bytes consumed so far (compressed bytes for gzip), for progress reporting. */
  readonly bytesRead: number;
  batches(): AsyncGenerator<EventBatch, void, undefined>;
}

/** A source with the same meta, diagnostics and progress as `source`, whose batches come from `batches`. */
export function withBatches(
  source: TraceSource,
  batches: () => AsyncGenerator<EventBatch, void, undefined>,
): TraceSource {
  return {
    get meta() {
      return source.meta;
    },
    get diagnostics() {
      return source.diagnostics;
    },
    get bytesRead() {
      return source.bytesRead;
    },
    batches,
  };
}

/**
 * A thread's calls as columns: what a ring dump's rings hold when they contain nothing but
 * function enters and exits (the default recording). Writers that can encode calls without an
 * object per event take these from `CallRunSource.batchesOrRuns`; everything else reads the
 * same calls as `B`/`E` events from `batches()`.
 *
 * Entries are balanced and in time order per thread, across the runs of that thread: the reader
 * has already applied its rules (orphan exits dropped, frames still open at the dump closed).
 * A run's arrays are the reader's: valid until the next item is asked for.
 */
export interface CallRun {
  pid: number;
  tid: number;
  count: number;
  /** Per entry: `CALL_ENTER`, `CALL_EXIT`, or `CALL_EXIT_UNCLOSED` (the `E` with `{"unclosed":true}`). */
  kind: Uint8Array;
  /** Frame id per entry; its display name is `frames.name(id)`. */
  frame: Uint32Array;
  /** ns after `meta.baseUs`, as event `ts`. */
  ts: Float64Array;
  /** The frame table the ids refer to (one per dump: its identity tells tables apart). */
  frames: { name(id: number): string };
}

export const CALL_ENTER = 1;
export const CALL_EXIT = 2;
export const CALL_EXIT_UNCLOSED = 3;
/** Args of the `E` event of a `CALL_EXIT_UNCLOSED` entry. */
export const UNCLOSED_ARGS = '{"unclosed":true}';

/** A source that can hand over calls as `CallRun`s, interleaved with its other event batches. */
export interface CallRunSource extends TraceSource {
  batchesOrRuns(): AsyncGenerator<EventBatch | CallRun, void, undefined>;
}

export function hasCallRuns(source: TraceSource): source is CallRunSource {
  return typeof (source as Partial<CallRunSource>).batchesOrRuns === 'function';
}

export function isCallRun(item: EventBatch | CallRun): item is CallRun {
  return !Array.isArray(item);
}
