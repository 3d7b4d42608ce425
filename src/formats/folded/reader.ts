/**
 * Folded stacks as a trace: each line becomes nested `B`/`E` slices laid end
 * to end on one thread, the count taken as nanoseconds. Lines sharing a
 * prefix with the previous line keep those frames open, so a sorted folded
 * file reads back as the call tree it describes. Read-only.
 */
import type { Input } from '../../io/input.js';
import { Diagnostics } from '../../model/diagnostics.js';
import { makeEvent, threadKey, type EventBatch, type TraceEvent } from '../../model/event.js';
import { emptyMeta, type TraceMeta, type TraceSource } from '../../model/source.js';
import { foldedLines } from './parse.js';

export const FOLDED_FORMAT = 'folded';

export class FoldedReader implements TraceSource {
  readonly meta: TraceMeta = emptyMeta(FOLDED_FORMAT);
  readonly diagnostics = new Diagnostics();
  constructor(private readonly input: Input) {}

  get bytesRead(): number {
    return this.input.bytesRead();
  }

  async *batches(): AsyncGenerator<EventBatch, void, undefined> {
    const open: string[] = [];
    let t = 0;
    let batch: TraceEvent[] = [];
    const ev = (ph: 'B' | 'E', name: string): void => {
      batch.push(makeEvent({ ph, name, ts: t, pid: 1, tid: 1, cat: 'folded' }));
    };
    this.meta.threadNames.set(threadKey(1, 1), 'folded');
    for await (const lines of foldedLines(this.input, this.diagnostics)) {
      for (const l of lines) {
        if (l.count === 0) continue;
        if (t + Math.round(l.count) > Number.MAX_SAFE_INTEGER) {
          // Each line lasts its count in ns, end to end: past 2^53 the times are no longer exact.
          this.diagnostics.add(
            'bad_folded_line',
            'error',
            `${this.input.name}: the counts add up past 2^53 ns; the lines from there on are skipped`,
          );
          continue;
        }
        const frames = l.stack.split(';');
        let common = 0;
        while (common < open.length && common < frames.length && open[common] === frames[common]) common++;
        while (open.length > common) ev('E', open.pop()!);
        for (let i = common; i < frames.length; i++) {
          open.push(frames[i]!);
          ev('B', frames[i]!);
        }
        t += Math.round(l.count);
      }
      if (batch.length >= 4096) {
        yield batch;
        batch = [];
      }
    }
    while (open.length > 0) ev('E', open.pop()!);
    if (batch.length > 0) yield batch;
  }
}

export function readFolded(input: Input): TraceSource {
  return new FoldedReader(input);
}
