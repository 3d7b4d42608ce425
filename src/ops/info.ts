import type { Diagnostic } from '../model/diagnostics.js';
import { parseArgs, threadKey, type Ident, type TraceEvent } from '../model/event.js';
import { startProgress } from '../cli/progress.js';
import { openTrace } from './open.js';

export interface ThreadInfo {
  pid: Ident;
  tid: Ident;
  name?: string;
  events: number;
}

export interface ProcessInfo {
  pid: Ident;
  name?: string;
  events: number;
  threads: ThreadInfo[];
}

export interface InfoReport {
  file: string;
  format: string;
  gzip: boolean;
  sizeBytes?: number;
  events: number;
  phases: Record<string, number>;
  processes: ProcessInfo[];
  /** Earliest and latest time in microseconds as written in the input, and the span. */
  startUs?: number;
  endUs?: number;
  durationUs?: number;
  metadataKeys: string[];
  diagnostics: Diagnostic[];
  /** Present when the input was cut short: where, out of how much, and what was kept. */
  truncation?: Truncation;
}

export interface Truncation {
  /** Offset in the (decompressed) content where the readable data ends, when known. */
  atByte?: number;
  /** Size of the file on disk (compressed size for gzip), when known. */
  ofBytes?: number;
  /** Events read before the cut (every complete one). */
  eventsKept: number;
  /** The input is gzip-compressed: `atByte` counts decompressed bytes, `ofBytes` compressed ones. */
  gzip: boolean;
  /** The gzip stream itself ends early (rather than the content inside a complete stream). */
  gzipStreamCut?: boolean;
}

export async function info(path: string, options: { progress?: boolean } = {}): Promise<InfoReport> {
  const { input, format, source } = await openTrace(path);
  const progress = options.progress === false ? undefined : startProgress('reading', input.size);
  const phases: Record<string, number> = {};
  const procs = new Map<Ident, ProcessInfo>();
  const threads = new Map<string, ThreadInfo>();
  let events = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  try {
    for await (const batch of source.batches()) {
      progress?.update(source.bytesRead);
      for (const ev of batch) {
        events++;
        phases[ev.ph] = (phases[ev.ph] ?? 0) + 1;
        let proc = procs.get(ev.pid);
        if (!proc) procs.set(ev.pid, (proc = { pid: ev.pid, events: 0, threads: [] }));
        proc.events++;
        if (ev.ph === 'M') {
          applyMetadata(ev.name, ev.pid, ev.tid, nameArg(ev), proc, threads);
          continue;
        }
        const key = threadKey(ev.pid, ev.tid);
        let th = threads.get(key);
        if (!th) {
          threads.set(key, (th = { pid: ev.pid, tid: ev.tid, events: 0 }));
          proc.threads.push(th);
        }
        th.events++;
        if (Number.isFinite(ev.ts)) {
          if (ev.ts < min) min = ev.ts;
          const end = ev.dur > 0 ? ev.ts + ev.dur : ev.ts;
          if (end > max) max = end;
        }
      }
    }
  } finally {
    progress?.stop();
  }
  for (const [pid, name] of source.meta.processNames) {
    const p = procs.get(pid);
    if (p && !p.name) p.name = name;
  }
  for (const [key, name] of source.meta.threadNames) {
    const t = threads.get(key);
    if (t && !t.name) t.name = name;
  }
  const base = source.meta.baseUs;
  const report: InfoReport = {
    file: input.name,
    format: format.name,
    gzip: input.gzip,
    sizeBytes: input.size,
    events,
    phases,
    processes: [...procs.values()]
      .map((p) => ({ ...p, threads: p.threads.sort(byIdent) }))
      .sort((a, b) => compareIdent(a.pid, b.pid)),
    metadataKeys: Object.keys(source.meta.topLevel),
    diagnostics: source.diagnostics.list(),
  };
  const cut = source.diagnostics.get('truncated_input');
  if (cut) {
    const t: Truncation = { eventsKept: events, gzip: input.gzip };
    if (input.gzip && cut.message.includes('gzip stream ends early')) t.gzipStreamCut = true;
    const at = cut.offset ?? Number(/\bbyte (\d+)/.exec(cut.message)?.[1] ?? Number.NaN);
    // A place beyond the end of the file is not where reading stopped (gzip offsets are content offsets).
    if (Number.isFinite(at) && (input.gzip || input.size === undefined || at <= input.size)) t.atByte = at;
    if (input.size !== undefined) t.ofBytes = input.size;
    report.truncation = t;
  }
  if (min <= max) {
    report.startUs = base + min / 1000;
    report.endUs = base + max / 1000;
    report.durationUs = (max - min) / 1000;
  }
  return report;
}

function nameArg(ev: TraceEvent): string | undefined {
  if (ev.args === '') return undefined;
  try {
    const v = parseArgs(ev).name;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

function applyMetadata(
  kind: string,
  pid: Ident,
  tid: Ident,
  name: string | undefined,
  proc: ProcessInfo,
  threads: Map<string, ThreadInfo>,
): void {
  if (name === undefined) return;
  if (kind === 'process_name') proc.name = name;
  else if (kind === 'thread_name') {
    const key = threadKey(pid, tid);
    let th = threads.get(key);
    if (!th) {
      threads.set(key, (th = { pid, tid, events: 0 }));
      proc.threads.push(th);
    }
    th.name = name;
  }
}

function compareIdent(a: Ident, b: Ident): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}
function byIdent(a: ThreadInfo, b: ThreadInfo): number {
  return compareIdent(a.tid, b.tid);
}
