/**
 * Renders `viz stats` reports: an aligned text table, Markdown, CSV (raw
 * nanoseconds) or JSON. No colours: the output is the same on a terminal and
 * in a pipe.
 */
import { formatNs } from '../flamegraph/render-svg.js';
import type { EdgeRow, StatsDiffReport, StatsReport, StatsRow } from './index.js';

export type TableFormat = 'text' | 'md' | 'csv' | 'json';

interface Column {
  head: string;
  /** CSV header (raw values). */
  csv: string;
  text(r: StatsRow): string;
  raw(r: StatsRow): string | number;
  left?: boolean;
}

const pct = (v: number): string => `${v.toFixed(2)}%`;
const time = (ns: number): string => (Number.isFinite(ns) ? formatNs(Math.round(ns)) : '-');

export function location(r: { function: string; file?: string; line?: number }): string {
  // VizTracer and viz record names already carry "(file:line)" or "(file:line:column)".
  if (r.file === undefined || r.function.includes(` (${r.file}:${r.line}`)) return r.function;
  return `${r.function} (${r.file}${r.line === undefined ? '' : `:${r.line}`})`;
}

const COLUMNS: Column[] = [
  {
    head: 'calls',
    csv: 'calls',
    text: (r) => (r.calls === r.primitive ? String(r.calls) : `${r.calls}/${r.primitive}`),
    raw: (r) => r.calls,
  },
  { head: 'self', csv: 'self_ns', text: (r) => time(r.self), raw: (r) => r.self },
  { head: 'self%', csv: 'self_pct', text: (r) => pct(r.selfPct), raw: (r) => r.selfPct.toFixed(4) },
  { head: 'total', csv: 'total_ns', text: (r) => time(r.total), raw: (r) => r.total },
  { head: 'total%', csv: 'total_pct', text: (r) => pct(r.totalPct), raw: (r) => r.totalPct.toFixed(4) },
  { head: 'mean', csv: 'mean_ns', text: (r) => time(r.mean), raw: (r) => Math.round(r.mean) },
  { head: 'min', csv: 'min_ns', text: (r) => time(r.min), raw: (r) => r.min },
  { head: 'max', csv: 'max_ns', text: (r) => time(r.max), raw: (r) => r.max },
  { head: 'p50', csv: 'p50_ns', text: (r) => time(r.p50), raw: (r) => Math.round(r.p50) },
  { head: 'p95', csv: 'p95_ns', text: (r) => time(r.p95), raw: (r) => Math.round(r.p95) },
  { head: 'p99', csv: 'p99_ns', text: (r) => time(r.p99), raw: (r) => Math.round(r.p99) },
  {
    head: 'function (file:line)',
    csv: 'function',
    text: (r) => location(r),
    raw: (r) => r.function,
    left: true,
  },
];

function align(rows: string[][], leftCols: Set<number>): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) =>
          leftCols.has(i) ? (i === r.length - 1 ? c : c.padEnd(widths[i]!)) : c.padStart(widths[i]!),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function renderStats(report: StatsReport, format: TableFormat): string {
  if (format === 'json') return JSON.stringify(report, null, 2) + '\n';
  if (format === 'csv') {
    const lines = [
      COLUMNS.map((c) => c.csv)
        .concat(['primitive_calls', 'file', 'line'])
        .join(','),
    ];
    for (const r of report.rows)
      lines.push(
        COLUMNS.map((c) => csvCell(c.raw(r)))
          .concat([String(r.primitive), csvCell(r.file ?? ''), String(r.line ?? '')])
          .join(','),
      );
    return lines.join('\n') + '\n';
  }
  const head = COLUMNS.map((c) => c.head);
  const body = report.rows.map((r) => COLUMNS.map((c) => c.text(r)));
  const out: string[] = [];
  if (format === 'md') {
    out.push(`| ${head.map(mdCell).join(' | ')} |`);
    out.push(`| ${COLUMNS.map((c) => (c.left ? ':---' : '---:')).join(' | ')} |`);
    for (const b of body) out.push(`| ${b.map(mdCell).join(' | ')} |`);
  } else {
    out.push(
      `${report.input}: ${report.functions} functions, ${time(report.totalTime)} total self time; sorted by ${report.sort}` +
        (report.rows.length < report.functions ? `, top ${report.rows.length}` : ''),
    );
    out.push(align([head, ...body], new Set([COLUMNS.length - 1])));
    out.push(
      `calls: all/primitive when recursive; total counts outermost calls only; percentiles within ${(report.relativeAccuracy * 100).toFixed(0)}%`,
    );
  }
  for (const which of ['callers', 'callees'] as const) {
    const e = report[which];
    if (!e) continue;
    out.push('');
    out.push(`${which} of ${e.target.join(', ')}:`);
    out.push(renderEdges(e.rows, format));
  }
  return out.join('\n') + '\n';
}

function renderEdges(rows: EdgeRow[], format: TableFormat): string {
  const head = ['calls', 'self', 'total', 'function'];
  const body = rows.map((r) => [String(r.calls), time(r.self), time(r.total), r.function]);
  if (format === 'md')
    return [
      `| ${head.join(' | ')} |`,
      '| ---: | ---: | ---: | :--- |',
      ...body.map((b) => `| ${b.map(mdCell).join(' | ')} |`),
    ].join('\n');
  if (format === 'csv')
    return [
      'calls,self_ns,total_ns,function',
      ...rows.map((r) => [r.calls, r.self, r.total, csvCell(r.function)].join(',')),
    ].join('\n');
  return align([head, ...body], new Set([3]));
}

export function renderStatsDiff(report: StatsDiffReport, format: TableFormat): string {
  if (format === 'json')
    return (
      JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v), 2) +
      '\n'
    );
  const change = (r: StatsDiffReport['rows'][number]): string =>
    Number.isNaN(r.selfChangePct)
      ? 'new'
      : `${r.selfChangePct >= 0 ? '+' : ''}${r.selfChangePct.toFixed(1)}%`;
  const signed = (ns: number): string => (ns > 0 ? '+' : ns < 0 ? '-' : '') + time(Math.abs(ns));
  if (format === 'csv') {
    const lines = [
      'calls_before,calls_after,self_before_ns,self_after_ns,self_delta_ns,self_change_pct,total_before_ns,total_after_ns,total_delta_ns,function',
    ];
    for (const r of report.rows) {
      lines.push(
        [
          r.callsBefore,
          r.callsAfter,
          r.selfBefore,
          r.selfAfter,
          r.selfDelta,
          Number.isNaN(r.selfChangePct) ? '' : r.selfChangePct.toFixed(4),
          r.totalBefore,
          r.totalAfter,
          r.totalDelta,
          csvCell(r.function),
        ].join(','),
      );
    }
    return lines.join('\n') + '\n';
  }
  const head = [
    'calls',
    'self before',
    'self after',
    'self change',
    '',
    'total before',
    'total after',
    'total change',
    'function',
  ];
  const body = report.rows.map((r) => [
    r.callsBefore === r.callsAfter ? String(r.callsAfter) : `${r.callsBefore}->${r.callsAfter}`,
    time(r.selfBefore),
    time(r.selfAfter),
    signed(r.selfDelta),
    change(r),
    time(r.totalBefore),
    time(r.totalAfter),
    signed(r.totalDelta),
    r.function,
  ]);
  if (format === 'md') {
    return (
      [
        `| ${head.join(' | ')} |`,
        `| ${head.map((_, i) => (i === head.length - 1 ? ':---' : '---:')).join(' | ')} |`,
        ...body.map((b) => `| ${b.map(mdCell).join(' | ')} |`),
      ].join('\n') + '\n'
    );
  }
  const title = `${report.before} -> ${report.after}: total self time ${time(report.totalBefore)} -> ${time(report.totalAfter)} (${signed(report.totalAfter - report.totalBefore)})`;
  return [title, align([head, ...body], new Set([head.length - 1]))].join('\n') + '\n';
}
