/** `viz record --stats`: the functions that produced the most events, read back from a dump. */
import { openRingDump } from '../formats/ring/reader.js';

export interface TopFunction {
  name: string;
  /** Enter + exit + async span begin/end records. */
  events: number;
}

export async function topFunctions(path: string, n = 10): Promise<TopFunction[]> {
  const source = openRingDump(path);
  const counts = new Map<string, number>();
  for await (const batch of source.batches()) {
    for (const ev of batch) {
      if (ev.ph === 'B' || ev.ph === 'E' || ev.ph === 'b' || ev.ph === 'e')
        counts.set(ev.name, (counts.get(ev.name) ?? 0) + 1);
    }
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([name, events]) => ({ name, events }));
}
