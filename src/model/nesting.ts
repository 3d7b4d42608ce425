/**
 * The one place that decides what the call tree was. Every writer and analyser
 * that needs slices (Perfetto, flame graphs, stats) feeds time-ordered events
 * (see `order.ts`) through a `SliceNester` and receives properly nested
 * enter/exit callbacks, so all outputs agree.
 *
 * Rules (per thread, i.e. per (pid, tid)):
 * - `B` opens a slice; `X` opens a slice whose end is known; intervals are
 *   closed-open, so a slice ending at t is closed before anything at t begins.
 * - `E` closes the innermost open slice. An `E` with a name that differs from
 *   the innermost slice closes the innermost open slice of that name and, with
 *   it, the slices above it (`end_closes_children`). An `E` whose name matches
 *   no open slice waits until the other events at the same timestamp are seen
 *   (a zero-length `B`/`E` pair written as `E` then `B`); if still unmatched it is
 *   dropped (`unmatched_end`). An `E` with an empty stack is dropped too.
 * - A child `X` that ends after its parent `X` (microsecond rounding in
 *   VizTracer files) is clipped to the parent's end (`child_clipped`, info),
 *   so self time is never negative. An `X` overlapping its parent `B`'s end is
 *   clipped at that end.
 * - Slices still open at the end of input are closed at the thread's last
 *   timestamp (`unclosed_slice`).
 */
import type { Diagnostics } from './diagnostics.js';
import type { EventBatch, Ident, TraceEvent } from './event.js';

export type EndReason = 'end' | 'complete' | 'unclosed' | 'forced';

export interface OpenSlice {
  name: string;
  cat: string;
  /** Start time, ns. */
  ts: number;
  /** Known end for `X` slices (possibly clipped), NaN for `B` slices until their `E`. */
  end: number;
  /** The `B` or `X` event that opened the slice. */
  begin: TraceEvent;
  /** 0 for a root slice. */
  depth: number;
  thread: ThreadStack;
  /** Stack index of the nearest enclosing `X` slice, -1 if none. */
  outerX: number;
}

export interface SliceHandler {
  enter(slice: OpenSlice): void;
  /** `endEvent` is the `E` that closed a `B` slice (its args belong to the slice), if any. */
  exit(slice: OpenSlice, endTs: number, reason: EndReason, endEvent: TraceEvent | undefined): void;
  /** Every event that is not a thread slice (`B`/`E`/`X`), in time order, with its thread's stack. */
  other?(ev: TraceEvent, thread: ThreadStack): void;
}

export class ThreadStack {
  readonly open: OpenSlice[] = [];
  /** Stack index of the innermost open `X` slice (the earliest known end), -1 if none. */
  innerX = -1;
  /** Latest timestamp seen on this thread (including ends of `X` slices). */
  lastTs = Number.NEGATIVE_INFINITY;
  /** Unmatched `E` events waiting for the rest of their timestamp group. */
  deferred: TraceEvent[] = [];
  deferredTs = Number.NaN;
  constructor(
    readonly pid: Ident,
    readonly tid: Ident,
  ) {}
  get top(): OpenSlice | undefined {
    return this.open[this.open.length - 1];
  }
}

const SLICE_PHASES = new Set(['B', 'E', 'X']);

export class SliceNester {
  private readonly threads = new Map<Ident, Map<Ident, ThreadStack>>();

  constructor(
    private readonly handler: SliceHandler,
    private readonly diagnostics: Diagnostics,
  ) {}

  thread(pid: Ident, tid: Ident): ThreadStack {
    let byTid = this.threads.get(pid);
    if (!byTid) this.threads.set(pid, (byTid = new Map()));
    let stack = byTid.get(tid);
    if (!stack) byTid.set(tid, (stack = new ThreadStack(pid, tid)));
    return stack;
  }

  allThreads(): ThreadStack[] {
    const out: ThreadStack[] = [];
    for (const byTid of this.threads.values()) out.push(...byTid.values());
    return out;
  }

  /** Feed events in time order (as produced by `timeOrdered`). */
  push(batch: EventBatch): void {
    for (const ev of batch) this.pushEvent(ev);
  }

  pushEvent(ev: TraceEvent): void {
    const th = this.thread(ev.pid, ev.tid);
    const t = ev.ts;
    if (th.deferred.length > 0 && t !== th.deferredTs) this.settleDeferred(th);
    if (Number.isFinite(t)) {
      this.closeCompleted(th, t);
      if (t > th.lastTs) th.lastTs = t;
    }
    if (!SLICE_PHASES.has(ev.ph)) {
      this.handler.other?.(ev, th);
      return;
    }
    if (ev.ph === 'E') this.end(th, ev);
    else this.begin(th, ev);
  }

  /** Close everything still open. Call once after the last batch. */
  finish(): void {
    for (const th of this.allThreads()) {
      if (th.deferred.length > 0) this.settleDeferred(th);
      this.closeCompleted(th, Number.POSITIVE_INFINITY);
      while (th.open.length > 0) {
        const s = pop(th)!;
        this.diagnostics.add(
          'unclosed_slice',
          'error',
          `slice "${s.name}" on thread ${th.pid}/${th.tid} has no end; closed at the thread's last timestamp`,
        );
        this.handler.exit(s, Math.max(th.lastTs, s.ts), 'unclosed', undefined);
      }
    }
  }

  private begin(th: ThreadStack, ev: TraceEvent): void {
    let end = Number.NaN;
    const outer = th.innerX >= 0 ? th.open[th.innerX] : undefined;
    if (ev.ph === 'X') {
      end = ev.ts + Math.max(0, ev.dur);
      if (outer && end > outer.end) {
        this.diagnostics.add(
          'child_clipped',
          'info',
          `slice "${ev.name}" ends after its enclosing slice "${outer.name}"; clipped to that end`,
        );
        end = outer.end;
      }
      if (end > th.lastTs) th.lastTs = end;
    }
    const slice: OpenSlice = {
      name: ev.name,
      cat: ev.cat,
      ts: ev.ts,
      end,
      begin: ev,
      depth: th.open.length,
      thread: th,
      outerX: th.innerX,
    };
    if (ev.ph === 'X') th.innerX = th.open.length;
    th.open.push(slice);
    this.handler.enter(slice);
  }

  private end(th: ThreadStack, ev: TraceEvent): void {
    const top = th.top;
    if (!top) {
      this.diagnostics.add('unmatched_end', 'error', `"E" event at ${ev.ts} ns on thread ${th.pid}/${th.tid} has no open slice; dropped`);
      return;
    }
    if (ev.name === '' || ev.name === top.name) {
      if (!Number.isNaN(top.end)) {
        // The innermost open slice is an `X` still running: the `E` belongs to a `B` below it.
        if (!this.closeMatching(th, ev, (s) => Number.isNaN(s.end) && (ev.name === '' || s.name === ev.name))) {
          this.diagnostics.add('unmatched_end', 'error', `"E" event at ${ev.ts} ns on thread ${th.pid}/${th.tid} matches no open "B" slice; dropped`);
        }
        return;
      }
      pop(th);
      this.handler.exit(top, ev.ts, 'end', ev);
      return;
    }
    if (!this.closeMatching(th, ev, (s) => s.name === ev.name && Number.isNaN(s.end))) {
      th.deferred.push(ev);
      th.deferredTs = ev.ts;
    }
  }

  /** Close the innermost open slice satisfying `match`, and every slice above it. */
  private closeMatching(th: ThreadStack, ev: TraceEvent, match: (s: OpenSlice) => boolean): boolean {
    for (let i = th.open.length - 1; i >= 0; i--) {
      if (!match(th.open[i]!)) continue;
      while (th.open.length - 1 > i) {
        const child = pop(th)!;
        this.diagnostics.add(
          'end_closes_children',
          'error',
          `"E" for "${th.open[i]!.name}" at ${ev.ts} ns also closes the open slice "${child.name}" above it`,
        );
        this.handler.exit(child, ev.ts, 'forced', undefined);
      }
      const s = pop(th)!;
      this.handler.exit(s, ev.ts, 'end', ev);
      return true;
    }
    return false;
  }

  private settleDeferred(th: ThreadStack): void {
    const pending = th.deferred;
    th.deferred = [];
    for (const ev of pending) {
      const top = th.top;
      if (top && top.name === ev.name && Number.isNaN(top.end)) {
        pop(th);
        this.handler.exit(top, ev.ts, 'end', ev);
      } else if (!this.closeMatching(th, ev, (s) => s.name === ev.name && Number.isNaN(s.end))) {
        this.diagnostics.add(
          'unmatched_end',
          'error',
          `"E" for "${ev.name}" at ${ev.ts} ns on thread ${th.pid}/${th.tid} matches no open slice; dropped`,
        );
      }
    }
  }

  /**
   * Close `X` slices whose end is at or before `t` (closed-open intervals). A `B`
   * slice still open inside such an `X` is closed at the `X`'s end (`forced`), so
   * children never outlive their parents; its later `E` then matches nothing.
   */
  private closeCompleted(th: ThreadStack, t: number): void {
    while (th.innerX >= 0) {
      const x = th.open[th.innerX]!;
      if (x.end > t) return;
      while (th.open.length - 1 > th.innerX) {
        const child = pop(th);
        this.diagnostics.add(
          'child_outlives_parent',
          'error',
          `slice "${child.name}" is still open when its enclosing slice "${x.name}" ends; closed there`,
        );
        this.handler.exit(child, x.end, 'forced', undefined);
      }
      pop(th);
      this.handler.exit(x, x.end, 'complete', undefined);
    }
  }
}

function pop(th: ThreadStack): OpenSlice {
  const s = th.open.pop()!;
  if (th.open.length === th.innerX) th.innerX = s.outerX;
  return s;
}
