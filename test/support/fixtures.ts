import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { openInput } from '../../src/io/input.js';
import type { TraceEvent } from '../../src/model/event.js';
import type { TraceSource } from '../../src/model/source.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

/** Every trace fixture (JSON and gzipped JSON), relative names for test titles. */
export function traceFixtures(): { name: string; path: string }[] {
  const out: { name: string; path: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const p = join(dir, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.json(\.gz)?$/.test(entry)) out.push({ name: relative(FIXTURES, p), path: p });
    }
  };
  walk(FIXTURES);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The file's text, gunzipped if needed. */
export function fixtureText(path: string): string {
  const raw = readFileSync(path);
  return (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('utf8');
}

/**
 * Independent parse: JSON.parse, after catapult's repair of truncated array
 * files (trim, drop one trailing comma, close the array).
 */
export function oracleEvents(text: string): {
  events: Record<string, unknown>[];
  top: Record<string, unknown>;
} {
  let t = text.trim();
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch {
    if (t.endsWith(',')) t = t.slice(0, -1);
    value = JSON.parse(t + ']');
  }
  if (Array.isArray(value)) return { events: value as Record<string, unknown>[], top: {} };
  const { traceEvents, ...top } = value as { traceEvents: Record<string, unknown>[] };
  return { events: traceEvents, top };
}

export async function readAll(source: TraceSource): Promise<TraceEvent[]> {
  const all: TraceEvent[] = [];
  for await (const b of source.batches()) for (const e of b) all.push(e);
  return all;
}

export async function readPath(
  path: string,
  reader: (input: Awaited<ReturnType<typeof openInput>>) => TraceSource,
): Promise<{ events: TraceEvent[]; source: TraceSource }> {
  const source = reader(await openInput(path));
  const events = await readAll(source);
  return { events, source };
}
