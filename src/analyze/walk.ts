/**
 * The one streaming pass shared by the analysers: open (or take) a trace,
 * put its events in time order (`timeOrdered`) and feed them through the shared
 * `SliceNester`, so flame graphs, stats and every writer agree on the call tree.
 * Memory is bounded by the reorder window, the stack depth and whatever the
 * handler aggregates.
 */
import { startProgress } from '../cli/progress.js';
import type { Diagnostics } from '../model/diagnostics.js';
import { parseArgs, threadKey, type Ident, type TraceEvent } from '../model/event.js';
import { SliceNester, type SliceHandler, type ThreadStack } from '../model/nesting.js';
import { timeOrdered, type Ordering } from '../model/order.js';
import { inTimeOrder } from '../ops/reorder.js';
import type { ArgsWanted, TraceSource } from '../model/source.js';
import { openInput, type Input } from '../io/input.js';
import { detectFormat, type FormatSpec } from '../formats/registry.js';

async function openDetected(path: string): Promise<{ input: Input; format: FormatSpec }> {
  const input = await openInput(path);
  return { input, format: detectFormat(input) };
}

export interface ThreadId {
  pid: Ident;
  tid: Ident;
  /** `threadKey(pid, tid)`. */
  key: string;
  name?: string;
  processName?: string;
}

export interface WalkResult {
  inputName: string;
  format: string;
  diagnostics: Diagnostics;
  /** Names of processes and threads (from `M` events and the container). */
  threads: Map<string, ThreadId>;
  processNames: Map<Ident, string>;
}

export interface WalkOptions {
  /** Show a progress bar on a terminal (default true). */
  progress?: boolean;
  /** Reorder window (events), see `timeOrdered`. */
  window?: number;
}

/** A path (`-` = stdin), or an input already opened and detected. */
export type TraceInput = string | { input: Input; format: FormatSpec };

/**
 * Runs a handler made by `makeHandler` over the call tree of a trace, streaming; a file whose
 * events outrun the reorder windows is read again with a fresh handler, sorted on disk
 * (`inTimeOrder`).
 */
export async function walkTrace<H extends AnalysisHandler>(
  from: TraceInput,
  makeHandler: () => H,
  options: WalkOptions = {},
): Promise<WalkResult & { handler: H }> {
  const first = typeof from === 'string' ? await openDetected(from) : from;
  return inTimeOrder(first.input, (input, ordering) => {
    const format = input === first.input ? first.format : detectFormat(input);
    return walkOpened({ input, format }, makeHandler(), options, ordering);
  });
}

async function walkOpened<H extends AnalysisHandler>(
  opened: { input: Input; format: FormatSpec },
  handler: H,
  options: WalkOptions,
  ordering: Ordering,
): Promise<WalkResult & { handler: H }> {
  const { input, format } = opened;
  const source = format.read!(input, {
    args: handler.argsWanted ?? 'all',
    categoriesNeeded: handler.categoriesNeeded ?? true,
    nameIds: true,
  });
  const progress = options.progress === false ? undefined : startProgress('reading', input.size);
  try {
    const walk = await walkSource(source, handler, {
      ...options,
      ...ordering,
      inputName: input.name,
      format: format.name,
      tick: progress ? () => progress.update(source.bytesRead) : undefined,
    });
    return { ...walk, handler };
  } finally {
    progress?.stop();
  }
}

/** Process and thread names from `M` events; analysers own one and feed it from `other`. */
export class ThreadNames {
  readonly threads = new Map<string, ThreadId>();
  readonly processNames = new Map<Ident, string>();
  note(ev: TraceEvent): void {
    if (ev.ph === 'M') noteMetadata(ev, this.threads, this.processNames);
  }
}

/** A slice handler that collects thread names from the `M` events it is given in `other`. */
export interface AnalysisHandler extends SliceHandler {
  readonly names: ThreadNames;
  other(ev: TraceEvent, thread: ThreadStack): void;
  /** Which events' `args` the handler reads (`ReadOptions.args`); all when absent. */
  readonly argsWanted?: ArgsWanted;
  /** False when the handler never reads categories (`ReadOptions.categoriesNeeded`). */
  readonly categoriesNeeded?: boolean;
  /** Called once after the last slice has closed. */
  finish?(): void;
}

export async function walkSource(
  source: TraceSource,
  handler: AnalysisHandler,
  options: WalkOptions &
    Ordering & {
      inputName?: string;
      format?: string;
      tick?: () => void;
    } = {},
): Promise<WalkResult> {
  // The handler goes to the nester as it is: no wrapper on the per-event path.
  const nester = new SliceNester(handler, source.diagnostics);
  const tick = options.tick;
  for await (const batch of timeOrdered(source.batches(), {
    diagnostics: source.diagnostics,
    window: options.window,
    perThread: true,
    external: options.external,
    lateEvents: options.lateEvents,
    lateHint: options.lateHint,
  })) {
    nester.push(batch);
    tick?.();
  }
  nester.finish();
  handler.finish?.();
  const { threads, processNames } = handler.names;
  for (const th of nester.allThreads()) {
    const key = threadKey(th.pid, th.tid);
    if (!threads.has(key)) threads.set(key, { pid: th.pid, tid: th.tid, key });
  }
  for (const [pid, name] of source.meta.processNames) if (!processNames.has(pid)) processNames.set(pid, name);
  for (const [key, name] of source.meta.threadNames) {
    const t = threads.get(key);
    if (t && t.name === undefined) t.name = name;
  }
  for (const t of threads.values()) t.processName ??= processNames.get(t.pid);
  return {
    inputName: options.inputName ?? '<trace>',
    format: options.format ?? source.meta.format,
    diagnostics: source.diagnostics,
    threads,
    processNames,
  };
}

function noteMetadata(
  ev: TraceEvent,
  threads: Map<string, ThreadId>,
  processNames: Map<Ident, string>,
): void {
  if (ev.name !== 'thread_name' && ev.name !== 'process_name') return;
  let name: unknown;
  try {
    name = parseArgs(ev).name;
  } catch {
    return;
  }
  if (typeof name !== 'string') return;
  if (ev.name === 'process_name') {
    processNames.set(ev.pid, name);
    return;
  }
  const key = threadKey(ev.pid, ev.tid);
  const t = threads.get(key);
  if (t) t.name = name;
  else threads.set(key, { pid: ev.pid, tid: ev.tid, key, name });
}

/** `--thread` / `--process` selection: each value is an id or a name; no values selects everything. */
export interface ThreadSelection {
  threads?: string[];
  processes?: string[];
}

export function selectsThread(sel: ThreadSelection, t: ThreadId): boolean {
  const th = sel.threads ?? [];
  const pr = sel.processes ?? [];
  if (th.length > 0 && !th.some((v) => v === String(t.tid) || v === t.name)) return false;
  if (pr.length > 0 && !pr.some((v) => v === String(t.pid) || v === t.processName)) return false;
  return true;
}

/** Human label of a thread: `name (pid/tid)` or `pid/tid`. */
export function threadLabel(t: ThreadId): string {
  const ids = `${t.pid}/${t.tid}`;
  return t.name ? `${t.name} (${ids})` : ids;
}

/**
 * Splits a frame name of the form `fn (file:line)` (VizTracer) or `fn (file:line:column)`
 * (viz record) into its parts.
 */
export function frameLocation(name: string): { func: string; file?: string; line?: number; column?: number } {
  const m = /^(.*) \((.+?):(\d+)(?::(\d+))?\)$/.exec(name);
  if (!m) return { func: name };
  return {
    func: m[1]!,
    file: m[2]!,
    line: Number(m[3]),
    column: m[4] === undefined ? undefined : Number(m[4]),
  };
}
