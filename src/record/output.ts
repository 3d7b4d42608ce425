/**
 * Turning the collected ring dump into the requested output: `.vizdump` is the dump itself; any
 * other name goes through the format registry exactly as `viz convert` would (`-o trace.json`,
 * `-o trace.json.gz`, `-o trace.perfetto-trace` ...).
 */
import {
  formatByExtension,
  formatByName,
  outputFormat,
  registerFormat,
  wantsGzip,
} from '../formats/registry.js';
import { openRingDump, readRing, sniffRing } from '../formats/ring/reader.js';
import { openOutput } from '../io/output.js';
import { convert } from '../ops/convert.js';
import { filterSlices, hasSliceFilter, type SliceFilter } from './slice-filter.js';

export const DUMP_EXTENSION = '.vizdump';

/** The registry format an output name converts to, or undefined when there is no writer for it. */
export function conversionTarget(output: string): string | undefined {
  const spec = formatByExtension(output);
  return spec?.write ? spec.name : undefined;
}

/** Adapter until the registry lists the ring format itself: conversion needs to read dumps. */
function ensureRingFormat(): void {
  if (formatByName('ring')?.read) return;
  registerFormat({
    name: 'ring',
    description: 'viz ring dump (what `viz record` writes)',
    extensions: [DUMP_EXTENSION],
    binary: true,
    sniff: sniffRing,
    read: readRing,
  });
}

/** Convert `dump` into `output` (format from its name), through `filter` when given. */
export async function convertDump(
  dump: string,
  output: string,
  filter?: SliceFilter,
): Promise<{ events: number }> {
  ensureRingFormat();
  if (hasSliceFilter(filter)) {
    const spec = outputFormat(conversionTarget(output), output);
    const source = filterSlices(openRingDump(dump), filter);
    const out = openOutput(output, { gzip: wantsGzip(spec, output) });
    try {
      const result = await spec.write!(source, out, { inputName: dump });
      await out.commit();
      return { events: result.events };
    } catch (err) {
      out.abort();
      throw err;
    }
  }
  const result = await convert(dump, { output, to: conversionTarget(output), progress: false });
  return { events: result.events };
}
