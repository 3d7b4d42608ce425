import type { InfoReport } from './info.js';

/** The human-readable form of `viz info`. */
export function formatInfo(r: InfoReport): string {
  const lines: string[] = [];
  const size = r.sizeBytes === undefined ? '' : ` (${formatBytes(r.sizeBytes)}${r.gzip ? ', gzip' : ''})`;
  lines.push(`file:      ${r.file}${size}`);
  lines.push(`format:    ${r.format}${r.gzip && r.sizeBytes === undefined ? ' (gzip)' : ''}`);
  lines.push(`events:    ${r.events}`);
  const phases = Object.entries(r.phases).sort((a, b) => b[1] - a[1]);
  lines.push(`phases:    ${phases.map(([ph, n]) => `${ph}=${n}`).join(' ') || '-'}`);
  if (r.durationUs !== undefined) {
    lines.push(`time:      ${formatUs(r.durationUs)} (from ${r.startUs} us to ${r.endUs} us)`);
  }
  lines.push(`processes: ${r.processes.length}`);
  for (const p of r.processes) {
    lines.push(
      `  pid ${p.pid}${p.name ? ` "${p.name}"` : ''}: ${p.events} events, ${p.threads.length} threads`,
    );
    for (const t of p.threads)
      lines.push(`    tid ${t.tid}${t.name ? ` "${t.name}"` : ''}: ${t.events} events`);
  }
  if (r.truncation) lines.push(`truncated: ${describeTruncation(r)}`);
  if (r.metadataKeys.length > 0) lines.push(`metadata:  ${r.metadataKeys.join(', ')}`);
  if (r.diagnostics.length === 0) lines.push('problems:  none');
  else {
    lines.push('problems:');
    for (const d of r.diagnostics) lines.push(`  ${d.severity} ${d.code} x${d.count}: ${d.message}`);
  }
  return lines.join('\n') + '\n';
}

/** `at byte N of M; K complete events kept`, or the gzip forms (content offsets are not file offsets). */
export function describeTruncation(r: InfoReport): string {
  const t = r.truncation!;
  const kept = `${t.eventsKept} complete events kept`;
  if (t.gzip) {
    const parts: string[] = [];
    if (t.gzipStreamCut && t.ofBytes !== undefined)
      parts.push(`${t.ofBytes} of ${t.ofBytes} compressed bytes read`);
    if (t.atByte !== undefined) parts.push(`${t.atByte} bytes of content`);
    const detail = parts.length > 0 ? ` (${parts.join(', ')})` : '';
    return `${t.gzipStreamCut ? 'the gzip stream ends early' : 'the decompressed content ends early'}${detail}; ${kept}`;
  }
  if (t.atByte === undefined) return `the input ends early; ${kept}`;
  return `at byte ${t.atByte}${t.ofBytes === undefined ? '' : ` of ${t.ofBytes}`}; ${kept}`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / (1 << 30)).toFixed(2)} GiB`;
}

function formatUs(us: number): string {
  if (us < 1000) return `${us.toFixed(3)} us`;
  if (us < 1e6) return `${(us / 1000).toFixed(3)} ms`;
  return `${(us / 1e6).toFixed(3)} s`;
}
