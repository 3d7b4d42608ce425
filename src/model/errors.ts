/**
 * Real errors (unreadable file, unknown format, bad usage) are VizErrors: the
 * command prints `viz: <message>` on one line and exits with the code's status.
 */
export const EXIT = {
  ok: 0,
  /** `--strict` and the trace had data loss. */
  dataLoss: 1,
  usage: 2,
  badInput: 3,
  /** The output could not be written (disk full, permissions). */
  output: 4,
  internal: 70,
} as const;

export type ErrorKind = 'usage' | 'badInput' | 'output' | 'internal';

export class VizError extends Error {
  readonly kind: ErrorKind;
  readonly suggestions: string[];

  constructor(kind: ErrorKind, message: string, suggestions: string[] = []) {
    super(message);
    this.name = 'VizError';
    this.kind = kind;
    this.suggestions = suggestions;
  }

  get exitCode(): number {
    return EXIT[this.kind];
  }
}

/** A bad-input error that names the file and the byte offset: `trace.json: byte 1234: expected ',' or ']'`. */
export function inputError(file: string, offset: number | undefined, cause: string): VizError {
  const where = offset === undefined ? '' : `byte ${offset}: `;
  return new VizError('badInput', `${file}: ${where}${cause}`);
}
