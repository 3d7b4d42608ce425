/** The numbers for `viz record`'s summary line, read back from a ring dump by the ring reader. */
import { openRingDump } from '../formats/ring/reader.js';

export interface DumpStats {
  /** Ring records kept (enter, exit, instant, value). */
  kept: number;
  /** Records the rings overwrote because they were full. */
  overwritten: number;
  threads: number;
  /** Signal number the dump was written for (0: exit). */
  signal: number;
}

export async function dumpStats(path: string): Promise<DumpStats> {
  const source = openRingDump(path);
  let events = 0;
  for await (const batch of source.batches()) events += batch.length;
  const d = source.diagnostics;
  // The reader adds an `E` for every frame still open at the dump and drops exits whose enter was
  // overwritten: undo both to get the records the dump holds.
  const synthetic = d.get('ring_unclosed_at_dump')?.count ?? 0;
  const dropped = d.get('ring_orphan_exit')?.count ?? 0;
  const signal = source.meta.topLevel.signal;
  return {
    kept: events - synthetic + dropped,
    overwritten: d.get('ring_overwritten')?.count ?? 0,
    threads: source.meta.threadNames.size,
    signal: typeof signal === 'number' ? signal : 0,
  };
}
