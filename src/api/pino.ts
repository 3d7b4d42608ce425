/**
 * pino integration: every log record becomes an instant event `log.<level>` with the record's
 * fields as args, and still goes where it went (stdout by default).
 *
 * ```ts
 * import pino from 'pino';
 * import { pinoDestination } from 'viz-trace';
 * const logger = pino(pinoDestination());            // or pinoDestination(pino.destination('app.log'))
 * ```
 */
const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

interface Writable {
  write(chunk: string): unknown;
}

interface VizApi {
  instant(name: string, args: unknown, scope: 'thread'): void;
}

/** A pino destination (an object with `write(line)`) that records each line, then passes it on to `next`. */
export function pinoDestination(next: Writable = process.stdout): Writable {
  return {
    write(line: string): unknown {
      const api = (globalThis as { __viz_rt?: { api?: VizApi } }).__viz_rt?.api;
      if (api !== undefined) {
        try {
          const record = JSON.parse(line) as { level?: number | string } & Record<string, unknown>;
          const level =
            typeof record.level === 'number'
              ? (LEVELS[record.level] ?? String(record.level))
              : String(record.level ?? 'log');
          api.instant(`log.${level}`, record, 'thread');
        } catch {
          // not JSON (a custom formatter): the line is still passed on
        }
      }
      return next.write(line);
    },
  };
}
