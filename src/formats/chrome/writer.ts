/**
 * Chrome Trace Event JSON writer. Streams the object form: events first, then
 * the input's other top-level keys (known only once the input is read), so any
 * viewer that loads the input loads the output. Times are written back as
 * microseconds with up to three decimals: exactly what was read.
 */
import type { Output } from '../../io/output.js';
import { NO_DUR, type TraceEvent } from '../../model/event.js';
import type { TraceSource } from '../../model/source.js';
import { stringifyJson } from '../../model/json.js';

export async function writeChrome(source: TraceSource, out: Output): Promise<{ events: number }> {
  let events = 0;
  let first = true;
  await out.write('{"traceEvents":[\n');
  for await (const batch of source.batches()) {
    if (batch.length === 0) continue;
    const base = source.meta.baseUs;
    const parts: string[] = new Array<string>(batch.length);
    for (let i = 0; i < batch.length; i++) parts[i] = eventToJson(batch[i]!, base);
    await out.write((first ? '' : ',\n') + parts.join(',\n'));
    first = false;
    events += batch.length;
  }
  let tail = '\n]';
  for (const [key, value] of Object.entries(source.meta.topLevel)) {
    if (key === 'traceEvents') continue;
    tail += `,\n${JSON.stringify(key)}:${stringifyJson(value)}`;
  }
  await out.write(tail + '}\n');
  return { events };
}

export function eventToJson(e: TraceEvent, baseUs: number): string {
  let s = '{"ph":' + JSON.stringify(e.ph);
  if (e.name !== '') s += ',"name":' + JSON.stringify(e.name);
  if (e.cat !== '') s += ',"cat":' + JSON.stringify(e.cat);
  if (Number.isFinite(e.ts)) s += ',"ts":' + formatMicros(e.ts, baseUs);
  if (e.dur !== NO_DUR) s += ',"dur":' + formatMicros(e.dur, 0);
  s += ',"pid":' + (typeof e.pid === 'string' ? JSON.stringify(e.pid) : e.pid);
  s += ',"tid":' + (typeof e.tid === 'string' ? JSON.stringify(e.tid) : e.tid);
  if (e.id !== '') s += ',"id":' + e.id;
  if (e.args !== '') s += ',"args":' + e.args;
  if (e.extra !== undefined) for (const k in e.extra) s += ',' + JSON.stringify(k) + ':' + e.extra[k];
  return s + '}';
}

/** `baseUs + ns / 1000` as exact decimal microseconds (at most three decimals). */
export function formatMicros(ns: number, baseUs: number): string {
  if (!Number.isSafeInteger(ns)) {
    // No exact decimal form beyond 2^53 ns: the nearest number, still valid JSON.
    const us = baseUs + ns / 1000;
    return Number.isFinite(us) ? String(us) : 'null';
  }
  const q = Math.floor(ns / 1000);
  const r = ns - q * 1000;
  const intUs = baseUs + q;
  if (r === 0) return String(intUs);
  if (intUs < 0) {
    // e.g. -6 us + 500 ns = -5.5 us
    const intPart = intUs + 1;
    return (intPart === 0 ? '-0' : String(intPart)) + '.' + frac3(1000 - r);
  }
  return String(intUs) + '.' + frac3(r);
}

function frac3(r: number): string {
  const s = r < 10 ? '00' + r : r < 100 ? '0' + r : String(r);
  return s.endsWith('00') ? s.slice(0, 1) : s.endsWith('0') ? s.slice(0, 2) : s;
}
