/**
 * Conversion-time filters of `viz record`: `--min-duration` drops slices (and async spans)
 * shorter than N ns, `--max-depth` drops slices nested deeper than N on their thread. Both work on
 * the ring reader's output, whose B/E are balanced per thread; memory is bounded by the stack
 * depth (and the number of open async spans).
 *
 * A slice's B is held until its E shows its duration; a kept slice releases the held Bs of its
 * ancestors first (they are at least as long), so every thread's events stay in order.
 */
import { threadKey, type EventBatch, type TraceEvent } from '../model/event.js';
import { withBatches, type TraceSource } from '../model/source.js';

export interface SliceFilter {
  /** Drop slices shorter than this many ns (0: keep all). */
  minDurationNs?: number;
  /** Drop slices deeper than this (1: top-level slices only). */
  maxDepth?: number;
}

export function hasSliceFilter(f: SliceFilter | undefined): f is SliceFilter {
  return !!f && ((f.minDurationNs ?? 0) > 0 || f.maxDepth !== undefined);
}

interface Open {
  begin: TraceEvent;
  /** Emitted already (a descendant was long enough), or dropped for depth. */
  emitted: boolean;
  tooDeep: boolean;
}

export function filterSlices(source: TraceSource, filter: SliceFilter): TraceSource {
  const min = filter.minDurationNs ?? 0;
  const maxDepth = filter.maxDepth ?? Infinity;
  return withBatches(source, async function* (): AsyncGenerator<EventBatch, void, undefined> {
    const stacks = new Map<string, Open[]>();
    const spans = new Map<string, TraceEvent>();
    for await (const batch of source.batches()) {
      const out: TraceEvent[] = [];
      for (const ev of batch) {
        if (ev.ph === 'B') {
          const key = threadKey(ev.pid, ev.tid);
          let stack = stacks.get(key);
          if (!stack) stacks.set(key, (stack = []));
          const tooDeep = stack.length >= maxDepth;
          const open: Open = { begin: ev, emitted: false, tooDeep };
          if (!tooDeep && min <= 0) {
            out.push(ev);
            open.emitted = true;
          }
          stack.push(open);
        } else if (ev.ph === 'E') {
          const stack = stacks.get(threadKey(ev.pid, ev.tid));
          const open = stack?.pop();
          if (!open || open.tooDeep) continue;
          if (!open.emitted) {
            if (ev.ts - open.begin.ts < min) continue;
            for (const o of stack!) {
              if (!o.emitted && !o.tooDeep) {
                out.push(o.begin);
                o.emitted = true;
              }
            }
            out.push(open.begin);
          }
          out.push(ev);
        } else if (min > 0 && (ev.ph === 'b' || ev.ph === 'e')) {
          const key = `${ev.pid}/${ev.cat}/${ev.id}`;
          if (ev.ph === 'b') spans.set(key, ev);
          else {
            const b = spans.get(key);
            spans.delete(key);
            if (b && ev.ts - b.ts >= min) out.push(b, ev);
          }
        } else {
          out.push(ev);
        }
      }
      if (out.length > 0) yield out;
    }
  });
}
