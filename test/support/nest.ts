import { Diagnostics } from '../../src/model/diagnostics.js';
import type { TraceEvent } from '../../src/model/event.js';
import { SliceNester, type EndReason, type OpenSlice } from '../../src/model/nesting.js';
import { timeOrdered } from '../../src/model/order.js';

export interface NestedSlice {
  name: string;
  depth: number;
  start: number;
  end: number;
  reason: EndReason;
  thread: string;
}

/** Runs events through the shared ordering and nesting; returns slices in enter order. */
export async function nest(
  events: TraceEvent[],
  options: { window?: number } = {},
): Promise<{ slices: NestedSlice[]; diagnostics: Diagnostics }> {
  const diagnostics = new Diagnostics();
  const slices: NestedSlice[] = [];
  const index = new Map<OpenSlice, number>();
  const nester = new SliceNester(
    {
      enter(s) {
        index.set(s, slices.length);
        slices.push({
          name: s.name,
          depth: s.depth,
          start: s.ts,
          end: Number.NaN,
          reason: 'end',
          thread: `${s.thread.pid}/${s.thread.tid}`,
        });
      },
      exit(s, endTs, reason) {
        const i = index.get(s)!;
        slices[i]!.end = endTs;
        slices[i]!.reason = reason;
      },
    },
    diagnostics,
  );
  async function* one(): AsyncGenerator<TraceEvent[]> {
    yield events;
  }
  for await (const batch of timeOrdered(one(), { diagnostics, window: options.window })) nester.push(batch);
  nester.finish();
  return { slices, diagnostics };
}

/** `  name start-end` lines, indented by depth; times in µs for readability. */
export function render(slices: NestedSlice[]): string[] {
  return slices.map(
    (s) =>
      `${'  '.repeat(s.depth)}${s.name} ${s.start / 1000}-${s.end / 1000}${s.reason === 'end' || s.reason === 'complete' ? '' : ` (${s.reason})`}`,
  );
}
