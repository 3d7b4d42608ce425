/**
 * Turning the collected ring dump into the requested output: `.vizdump` is the dump itself; any
 * other name goes through the format registry exactly as `viz convert` would (`-o trace.json`,
 * `-o trace.json.gz`, `-o trace.perfetto-trace` ...).
 */
import { formatByExtension } from '../formats/registry.js';
import { convert } from '../ops/convert.js';

export const DUMP_EXTENSION = '.vizdump';

/** The registry format an output name converts to, or undefined when there is no writer for it. */
export function conversionTarget(output: string): string | undefined {
  const spec = formatByExtension(output);
  return spec?.write ? spec.name : undefined;
}

/** Convert `dump` into `output` (format from its name). */
export async function convertDump(dump: string, output: string): Promise<{ events: number }> {
  const result = await convert(dump, { output, to: conversionTarget(output), progress: false });
  return { events: result.events };
}
