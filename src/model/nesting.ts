/**
 * The one place that decides what the call tree was. Every writer and analyser
 * that needs slices (Perfetto, flame graphs, stats) feeds time-ordered events
 * (see `order.ts`) through a `SliceNester` and receives properly nested
 * enter/exit callbacks, so all outputs agree.
 *
 * Rules (per thread, i.e. per (pid, tid)):
 * - `B` opens a slice; `X` opens a slice whose end is known; intervals are
 *   closed-open, so a slice ending at t is closed before anything at t begins.
 * - `E` closes the innermost open `B` slice. A named `E` for another slice
 *   waits until the other events at its timestamp are seen: `E`s at one
 *   timestamp close slices in whatever order makes names match (speedscope's
 *   rule), and an `E` written before the `B` of a zero-length pair finds it.
 *   Then an `E` for a deeper slice closes it and the slices above it
 *   (`end_closes_children`); an `E` matching nothing open is dropped
 *   (`unmatched_end`), as is an `E` with an empty stack.
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
  /** The opening event's `nameId` (0 when the reader numbers no names). */
  nameId: number;
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
  /**
   * A slice opens. The `OpenSlice` object is the nester's and is reused for a later slice once
   * `exit` has returned for it: keep what you need from it, not the object.
   */
  enter(slice: OpenSlice): void;
  /** `endEvent` is the `E` that closed a `B` slice (its args belong to the slice), if any. */
  exit(slice: OpenSlice, endTs: number, reason: EndReason, endEvent: TraceEvent | undefined): void;
  /** Every event that is not a thread slice (`B`/`E`/`X`), in time order, with its thread's stack. */
  other?(ev: TraceEvent, thread: ThreadStack): void;
}

export class ThreadStack {
  readonly open: OpenSlice[] = [];
  /** Slice objects by depth, reused once closed (one allocation per depth, not per call). */
  readonly spare: OpenSlice[] = [];
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

export class SliceNester {
  private readonly threads = new Map<Ident, Map<Ident, ThreadStack>>();
  private lastThread: ThreadStack | undefined;

  constructor(
    private readonly handler: SliceHandler,
    private readonly diagnostics: Diagnostics,
  ) {}

  thread(pid: Ident, tid: Ident): ThreadStack {
    // Consecutive events mostly belong to one thread (always so after per-thread ordering).
    const last = this.lastThread;
    if (last !== undefined && last.pid === pid && last.tid === tid) return last;
    let byTid = this.threads.get(pid);
    if (!byTid) this.threads.set(pid, (byTid = new Map()));
    let stack = byTid.get(tid);
    if (!stack) byTid.set(tid, (stack = new ThreadStack(pid, tid)));
    this.lastThread = stack;
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
    if (th.deferred.length > 0 && t !== th.deferredTs) this.settleDeferred(th, false);
    if (Number.isFinite(t)) {
      this.closeCompleted(th, t);
      if (t > th.lastTs) th.lastTs = t;
    }
    const ph = ev.ph;
    if (ph !== 'X' && ph !== 'B' && ph !== 'E') {
      this.handler.other?.(ev, th);
      return;
    }
    if (ph === 'E') this.end(th, ev);
    else {
      if (th.deferred.length > 0) this.settleDeferred(th, true);
      this.begin(th, ev);
    }
  }

  /** Close everything still open. Call once after the last batch. */
  finish(): void {
    for (const th of this.allThreads()) {
      if (th.deferred.length > 0) this.settleDeferred(th, false);
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
      if (ev.dur < 0) {
        this.diagnostics.add(
          'complete_without_dur',
          'error',
          `"X" event "${ev.name}" has no "dur"; taken as zero-length`,
        );
      }
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
    const depth = th.open.length;
    let slice = th.spare[depth];
    if (slice === undefined) {
      slice = {
        name: ev.name,
        nameId: ev.nameId,
        cat: ev.cat,
        ts: ev.ts,
        end,
        begin: ev,
        depth,
        thread: th,
        outerX: th.innerX,
      };
      th.spare[depth] = slice;
    } else {
      slice.name = ev.name;
      slice.nameId = ev.nameId;
      slice.cat = ev.cat;
      slice.ts = ev.ts;
      slice.end = end;
      slice.begin = ev;
      slice.outerX = th.innerX;
    }
    if (ev.ph === 'X') th.innerX = depth;
    th.open.push(slice);
    this.handler.enter(slice);
  }

  private end(th: ThreadStack, ev: TraceEvent): void {
    const top = th.top;
    if (!top) {
      this.diagnostics.add(
        'unmatched_end',
        'error',
        `"E" event at ${ev.ts} ns on thread ${th.pid}/${th.tid} has no open slice; dropped`,
      );
      return;
    }
    if (closesTop(ev, top)) {
      pop(th);
      this.handler.exit(top, ev.ts, 'end', ev);
      return;
    }
    if (ev.name === '') {
      // The innermost open slice is an `X` still running: the `E` belongs to the `B` below it.
      if (!this.closeMatching(th, ev, (s) => Number.isNaN(s.end))) {
        this.diagnostics.add(
          'unmatched_end',
          'error',
          `"E" event at ${ev.ts} ns on thread ${th.pid}/${th.tid} matches no open "B" slice; dropped`,
        );
      }
      return;
    }
    // A named `E` that is not for the innermost slice: decide once the other
    // events at this timestamp are known (they may close the inner slices, or
    // open the slice this `E` is for).
    th.deferred.push(ev);
    th.deferredTs = ev.ts;
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

  /**
   * Resolve deferred `E` events: first those that now close the innermost slice
   * (in any order), then those that close a deeper slice (closing the slices
   * above it). The rest match nothing open: they are dropped, or, when a begin at
   * the same timestamp triggered this (`beforeBegin`), kept for that begin.
   */
  private settleDeferred(th: ThreadStack, beforeBegin: boolean): void {
    const pending = th.deferred;
    th.deferred = [];
    for (let progress = true; progress && pending.length > 0;) {
      progress = false;
      for (let i = 0; i < pending.length; i++) {
        const ev = pending[i]!;
        const top = th.top;
        if (top && closesTop(ev, top)) {
          pop(th);
          this.handler.exit(top, ev.ts, 'end', ev);
          pending.splice(i, 1);
          progress = true;
          break;
        }
      }
    }
    for (const ev of pending) {
      if (this.closeMatching(th, ev, (s) => s.name === ev.name && Number.isNaN(s.end))) continue;
      if (beforeBegin) th.deferred.push(ev);
      else {
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

/** An `E` closes the innermost slice when that slice is a `B` slice and the names agree (or the `E` has none). */
function closesTop(ev: TraceEvent, top: OpenSlice): boolean {
  return Number.isNaN(top.end) && (ev.name === '' || ev.name === top.name);
}

function pop(th: ThreadStack): OpenSlice {
  const s = th.open.pop()!;
  if (th.open.length === th.innerX) th.innerX = s.outerX;
  return s;
}
