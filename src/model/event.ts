/**
 * The one event shape that flows from every reader to every writer and analyser.
 *
 * Fields mirror the Chrome Trace Event format because it is the richest common
 * denominator; other formats map onto it. Times are integer nanoseconds relative
 * to the trace's `baseUs`, so microsecond inputs with fractions (VizTracer,
 * PyTorch) keep every digit and epoch-sized timestamps stay exact in a double.
 */

/** Process or thread identity. Strings occur in the wild (`"pid": "worker-A"`) and are kept as given. */
export type Ident = number | string;

/** Marks an event that carries no timestamp (only `M` metadata events may lack one). */
export const NO_TS = Number.NEGATIVE_INFINITY;
/** Marks an event that carries no duration (everything but `X`). */
export const NO_DUR = -1;

export interface TraceEvent {
  /** Phase: one character, `B E X i I C b e n S T p F s t f M P O N D R ...`. */
  ph: string;
  name: string;
  /** Category list as written (comma separated), '' when absent. */
  cat: string;
  /** Integer ns relative to the trace base; `NO_TS` when absent. */
  ts: number;
  /** Integer ns for `X` events; `NO_DUR` otherwise. */
  dur: number;
  pid: Ident;
  tid: Ident;
  /** Raw JSON text of the `id` field ('' when absent), e.g. `"0x1f"` or `5`. */
  id: string;
  /** Raw JSON text of the `args` object ('' when absent). Parse with `parseArgs` only when needed. */
  args: string;
  /**
   * Every other field, as raw JSON text keyed by field name (`s`, `bp`, `id2`, `scope`,
   * `tts`, `tdur`, `sf`, `stack`, `cname`, `bind_id`, `flow_in`, `flow_out`, ...).
   * `undefined` when the event has none, which is the common case.
   */
  extra: Record<string, string> | undefined;
  /**
   * A number > 0 a reader may give names, when asked (`ReadOptions.nameIds`) or when it costs
   * nothing (ring dumps number their frame tables): within one reading, equal ids mean equal
   * names. 0 when the reader gives none. Analysers that group by name index by it instead of
   * hashing the name for every call.
   */
  nameId: number;
}

/** A batch of events: readers yield these, a few thousand at a time. */
export type EventBatch = TraceEvent[];

export function makeEvent(partial: Partial<TraceEvent> & { ph: string }): TraceEvent {
  return {
    ph: partial.ph,
    name: partial.name ?? '',
    cat: partial.cat ?? '',
    ts: partial.ts ?? NO_TS,
    dur: partial.dur ?? NO_DUR,
    pid: partial.pid ?? 0,
    tid: partial.tid ?? 0,
    id: partial.id ?? '',
    args: partial.args ?? '',
    extra: partial.extra,
    nameId: partial.nameId ?? 0,
  };
}

/** Parsed `args`, or an empty object when there are none. */
export function parseArgs(ev: TraceEvent): Record<string, unknown> {
  if (ev.args === '') return {};
  const value: unknown = JSON.parse(ev.args);
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : { value };
}

/** Parsed value of an `extra` field, or undefined. */
export function extraField(ev: TraceEvent, key: string): unknown {
  const raw = ev.extra?.[key];
  return raw === undefined ? undefined : JSON.parse(raw);
}

/** Key that identifies a thread across the whole trace (pids and tids may be strings). */
export function threadKey(pid: Ident, tid: Ident): string {
  return `${typeof pid}:${pid}/${typeof tid}:${tid}`;
}
