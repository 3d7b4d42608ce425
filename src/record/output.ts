/**
 * Turning the collected ring dump into the requested output: `.vizdump` is the dump itself; any
 * other name goes through the format registry exactly as `viz convert` would (`-o trace.json`,
 * `-o trace.json.gz`, `-o trace.perfetto-trace` ...).
 */
import { formatByExtension, formatByName, registerFormat } from '../formats/registry.js';
import { readRing, sniffRing } from '../formats/ring/reader.js';
import { convert } from '../ops/convert.js';

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

/** Convert `dump` into `output` (format from its name). */
export async function convertDump(dump: string, output: string): Promise<{ events: number }> {
  ensureRingFormat();
  const result = await convert(dump, { output, to: conversionTarget(output), progress: false });
  return { events: result.events };
}
