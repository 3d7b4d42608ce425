/**
 * A canonical, sorted description of a trace for round-trip comparisons: slices through the
 * shared ordering and nesting rules, instants, counters, flows, async events and names, with
 * absolute ns timestamps. Documented lossy spots of the Perfetto round trip are normalised here
 * (each marked "exception").
 */
import { Diagnostics } from '../../src/model/diagnostics.js';
import { threadKey, type TraceEvent } from '../../src/model/event.js';
import { SliceNester } from '../../src/model/nesting.js';
import { timeOrdered } from '../../src/model/order.js';
import { openTrace } from '../../src/ops/open.js';

type Dict = Record<string, unknown>;

function parse(text: string): Dict {
  if (text === '') return {};
  const v: unknown = JSON.parse(text);
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Dict) : { value: v };
}

function argsOf(...texts: string[]): string {
  const merged: Dict = {};
  for (const t of texts) Object.assign(merged, parse(t));
  delete merged['viz.end_reason']; // exception: slices viz had to close carry this flag
  return Object.keys(merged).length === 0 ? '' : JSON.stringify(merged);
}

/** An id without spaces (string ids are URI-encoded and marked). */
function idText(v: string | number): string {
  return typeof v === 'string' ? 's:' + encodeURIComponent(v) : String(v);
}

function extra(ev: TraceEvent, key: string): unknown {
  const raw = ev.extra?.[key];
  return raw === undefined ? undefined : JSON.parse(raw);
}

/** Canonical, sorted description of everything the round trip must keep. */
export async function canonical(path: string): Promise<string[]> {
  const { source } = await openTrace(path);
  const events: TraceEvent[] = [];
  for await (const b of source.batches()) events.push(...b);
  const abs = (ts: number): string => (BigInt(source.meta.baseUs) * 1000n + BigInt(ts)).toString();
  const lines: string[] = [];
  const flows2: { bind: string; ts: number; where: string; dir: string }[] = [];
  const v2 = (ev: TraceEvent, where: string): string => {
    const bind = extra(ev, 'bind_id');
    if (bind === undefined) return '';
    const fin = extra(ev, 'flow_in') === true;
    const fout = extra(ev, 'flow_out') === true;
    if (!fin && !fout) return '';
    flows2.push({ bind: String(bind), ts: ev.ts, where, dir: `${fin ? 'in' : ''}${fout ? 'out' : ''}` });
    return '';
  };
  const diagnostics = new Diagnostics();
  const names = new Map<string, string>();
  const nester = new SliceNester(
    {
      enter() {},
      exit(s, endTs, _reason, endEvent) {
        const th = `${idText(s.thread.pid)}/${idText(s.thread.tid)}`;
        v2(s.begin, `${th} ${s.name}`);
        lines.push(
          `slice ${th} d${s.depth} ${abs(s.ts)}..${abs(endTs)} ${JSON.stringify(s.name)} ${JSON.stringify(s.cat)} ${argsOf(s.begin.args, endEvent?.args ?? '')}`,
        );
      },
      other(ev) {
        const th = `${idText(ev.pid)}/${idText(ev.tid)}`;
        switch (ev.ph) {
          case 'M': {
            const name = parse(ev.args).name;
            if (ev.name === 'process_name' && typeof name === 'string') names.set(`pname ${ev.pid}`, name);
            if (ev.name === 'thread_name' && typeof name === 'string')
              names.set(`tname ${threadKey(ev.pid, ev.tid)}`, name);
            return;
          }
          case 'i':
          case 'I':
          case 'R': {
            // exception: I and R come back as i; scope p keeps no tid, scope g keeps neither pid nor tid
            const s = (extra(ev, 's') as string | undefined) ?? 't';
            const where = s === 'g' ? '' : s === 'p' ? `${ev.pid}` : th;
            lines.push(
              `instant ${s} ${where} ${abs(ev.ts)} ${JSON.stringify(ev.name)} ${JSON.stringify(ev.cat)} ${argsOf(ev.args)}`,
            );
            return;
          }
          case 'C':
            // exception: counters are per process, their tid is not kept
            for (const [k, v] of Object.entries(parse(ev.args))) {
              const n = typeof v === 'string' ? Number(v) : v;
              if (typeof n === 'number' && Number.isFinite(n))
                lines.push(`counter ${ev.pid} ${JSON.stringify(ev.name)} ${ev.id} ${k} ${abs(ev.ts)} ${n}`);
            }
            return;
          case 's':
          case 't':
          case 'f':
            lines.push(
              `flow ${ev.ph} ${th} ${abs(ev.ts)} ${JSON.stringify(ev.name)} ${JSON.stringify(ev.cat)} ${ev.id} ${ev.extra?.bp ?? ''} ${argsOf(ev.args)}`,
            );
            return;
          case 'b':
          case 'e':
          case 'n':
          case 'S':
          case 'T':
          case 'p':
          case 'F': {
            // exception: legacy S/T/p/F come back as b/n/e, async ids become track ids, tid is not kept,
            // and the name of an end is the name of the slice it closes
            const ph =
              ev.ph === 'S' ? 'b' : ev.ph === 'F' ? 'e' : ev.ph === 'T' || ev.ph === 'p' ? 'n' : ev.ph;
            v2(ev, `${ev.pid} ${ev.name}`);
            lines.push(
              `async ${ph} ${ev.pid} ${abs(ev.ts)} ${ph === 'e' ? '' : JSON.stringify(ev.name)} ${ph === 'e' ? '' : JSON.stringify(ev.cat)} ${argsOf(ev.args)}`,
            );
            return;
          }
          default:
          // exception: samples, objects, memory dumps, context and clock-sync events have no TrackEvent form
        }
      },
    },
    diagnostics,
  );
  async function* all(): AsyncGenerator<TraceEvent[]> {
    yield events;
  }
  for await (const b of timeOrdered(all(), { diagnostics })) nester.push(b);
  nester.finish();
  for (const [pid, name] of source.meta.processNames) names.set(`pname ${pid}`, name);
  for (const [key, name] of source.meta.threadNames) names.set(`tname ${key}`, name);
  for (const [k, v] of names) lines.push(`${k} ${JSON.stringify(v)}`);
  // Flow v2 ids are renumbered by first appearance (the ids themselves are hashed on the way).
  const order = new Map<string, number>();
  flows2.sort((a, b) => a.ts - b.ts || a.where.localeCompare(b.where));
  for (const f of flows2) {
    if (!order.has(f.bind)) order.set(f.bind, order.size);
    lines.push(`flow2 #${order.get(f.bind)} ${abs(f.ts)} ${f.where} ${f.dir}`);
  }
  return lines.sort();
}
