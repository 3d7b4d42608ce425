/**
 * Data problems are counted, not thrown: each has a code, a severity and the
 * first message seen. Commands print one summary line; `--strict` turns
 * data loss into a non-zero exit.
 */
export type Severity = 'info' | 'error' | 'data_loss';

export interface Diagnostic {
  code: string;
  severity: Severity;
  count: number;
  /** The first occurrence's message, with its location when known. */
  message: string;
  /** Byte offset of the first occurrence in the (decompressed) input, when the reader knows it. */
  offset?: number;
}

export class Diagnostics {
  private readonly byCode = new Map<string, Diagnostic>();

  add(code: string, severity: Severity, message: string, count = 1, offset?: number): void {
    const existing = this.byCode.get(code);
    if (existing) existing.count += count;
    else
      this.byCode.set(
        code,
        offset === undefined
          ? { code, severity, count, message }
          : { code, severity, count, message, offset },
      );
  }

  merge(other: Diagnostics): void {
    for (const d of other.list()) this.add(d.code, d.severity, d.message, d.count, d.offset);
  }

  list(): Diagnostic[] {
    return [...this.byCode.values()];
  }

  get(code: string): Diagnostic | undefined {
    return this.byCode.get(code);
  }

  count(severity?: Severity): number {
    let n = 0;
    for (const d of this.byCode.values()) if (!severity || d.severity === severity) n += d.count;
    return n;
  }

  get hasDataLoss(): boolean {
    return this.count('data_loss') > 0;
  }

  /** One line for stderr, e.g. `2 warnings: truncated_input (1): ...; unknown_phase (4): ...`. */
  summaryLine(): string | undefined {
    const list = this.list().filter((d) => d.severity !== 'info');
    if (list.length === 0) return undefined;
    const parts = list.map((d) => `${d.code} x${d.count} (${d.severity}): ${d.message}`);
    return `warning: ${parts.join('; ')}`;
  }
}
