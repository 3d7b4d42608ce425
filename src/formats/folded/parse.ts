/**
 * Folded stacks (`a;b;c 1234` per line), the text format flamegraph.pl,
 * inferno and most profilers exchange. A line may carry two counts
 * (`a;b 10 12`, difffolded.pl's before/after). Bad lines are skipped and
 * counted, never fatal.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Input } from '../../io/input.js';
import type { Diagnostics } from '../../model/diagnostics.js';

/** True when every complete line of the head looks like `stack count` (or `stack before after`). */
export function sniffFolded(head: Buffer): boolean {
  // Look at 64 KiB at most (the head can be a whole 1 MiB chunk), with a linear-time pattern.
  const limited = head.length > SNIFF_BYTES ? head.subarray(0, SNIFF_BYTES) : head;
  let text = limited.toString('utf8');
  if (limited.length >= 4096) text = text.slice(0, Math.max(0, text.lastIndexOf('\n')));
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return false;
  return lines.every((l) => / \d+(\.\d+)?\r?$/.test(l));
}

const SNIFF_BYTES = 64 * 1024;

export interface FoldedLine {
  /** The stack as written, frames separated by `;`. */
  stack: string;
  count: number;
  /** The first count of a two-count (differential) line; NaN otherwise. */
  before: number;
}

/**
 * Parses one line; returns false for a bad line. Writes into `out` to avoid
 * an allocation per line.
 */
const COUNT = /^\d+(\.\d+)?$/;

export function parseFoldedLine(line: string, out: FoldedLine): boolean {
  let end = line.length;
  if (end > 0 && line.charCodeAt(end - 1) === 13) end--;
  const sp = line.lastIndexOf(' ', end - 1);
  if (sp <= 0) return false;
  // Decimal digits only (as the flame graph's loader), and within 2^53: `1e308` or a 400-digit
  // count would put every later slice at Infinity.
  const text = line.slice(sp + 1, end);
  if (!COUNT.test(text)) return false;
  const count = Number(text);
  if (count > Number.MAX_SAFE_INTEGER) return false;
  let stackEnd = sp;
  let before = Number.NaN;
  const sp2 = line.lastIndexOf(' ', sp - 1);
  if (sp2 > 0) {
    const tok = line.slice(sp2 + 1, sp);
    if (/^\d+(\.\d+)?$/.test(tok)) {
      before = Number(tok);
      stackEnd = sp2;
    }
  }
  out.stack = line.slice(0, stackEnd);
  out.count = count;
  out.before = before;
  return out.stack.length > 0;
}

/** The good lines of the input, a chunk at a time; bad ones are counted in `diagnostics`. */
export async function* foldedLines(input: Input, diagnostics: Diagnostics): AsyncGenerator<FoldedLine[]> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let lineNo = 0;
  let out: FoldedLine[] = [];
  const handle = (line: string): void => {
    lineNo++;
    if (line === '' || line === '\r') return;
    const parsed: FoldedLine = { stack: '', count: 0, before: Number.NaN };
    if (parseFoldedLine(line, parsed)) out.push(parsed);
    else
      diagnostics.add(
        'bad_folded_line',
        'error',
        `${input.name}: line ${lineNo} is not "stack count"; skipped`,
      );
  };
  for await (const chunk of input.chunks()) {
    const text = carry + decoder.write(chunk);
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      handle(text.slice(start, nl));
      start = nl + 1;
    }
    carry = text.slice(start);
    if (out.length > 0) {
      yield out;
      out = [];
    }
  }
  carry += decoder.end();
  if (carry !== '') handle(carry);
  if (out.length > 0) yield out;
}
