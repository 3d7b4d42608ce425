/** The numbers for `viz record`'s summary line, from a ring dump's headers (no events are read). */
import { readRingSummary, type RingThreadSummary } from '../formats/ring/reader.js';

export interface DumpStats {
  /** Ring records kept (enter, exit, instant, value, async span), over every thread and process. */
  kept: number;
  /** Records the rings overwrote because they were full. */
  overwritten: number;
  threads: number;
  /** Dumps (processes) in the file. */
  processes: number;
  /** Signal number the (first) dump was written for (0: exit). */
  signal: number;
}

export async function dumpStats(path: string): Promise<DumpStats> {
  const { meta } = await readRingSummary(path);
  const top = meta.topLevel;
  const threads = (Array.isArray(top.threads) ? top.threads : []) as RingThreadSummary[];
  return {
    kept: threads.reduce((n, t) => n + t.kept, 0),
    overwritten: threads.reduce((n, t) => n + t.overwritten, 0),
    threads: threads.length,
    processes: Array.isArray(top.processes) ? Math.max(1, top.processes.length) : 1,
    signal: typeof top.signal === 'number' ? top.signal : 0,
  };
}
