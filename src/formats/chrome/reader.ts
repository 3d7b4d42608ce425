/**
 * Chrome Trace Event JSON reader: both containers, every phase, gzip and
 * stdin (through `Input`), truncated files, events in any order.
 *
 * Drives `EventScanner` over the input's chunks. When a value is cut by the
 * end of a chunk, the unread tail is kept and retried once enough further
 * bytes have arrived (at least doubling, so a huge top-level value such as
 * `stackFrames` costs linear time).
 */
import type { Input } from '../../io/input.js';
import { ChunkPuller } from '../../io/input.js';
import { Diagnostics } from '../../model/diagnostics.js';
import { inputError, VizError } from '../../model/errors.js';
import { NO_DUR, type EventBatch, type TraceEvent } from '../../model/event.js';
import { emptyMeta, type ReadOptions, type TraceMeta, type TraceSource } from '../../model/source.js';
import { BYTES, EventScanner, JsonSyntaxError, NEED_MORE } from './scanner.js';

/** Phases of the format reference; anything else is counted as `unknown_phase`. */
export const KNOWN_PHASES = new Set('B E X i I C b e n S T p F s t f M P O N D R V v c ( ) ='.split(' '));

export const FORMAT_NAME = 'chrome';

/** True when the head of the content looks like Chrome JSON: `{"` or `[{` or `[]` after whitespace. */
export function sniffChrome(head: Buffer): boolean {
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  const next = (): number => {
    while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09))
      i++;
    return i < head.length ? head[i++]! : -1;
  };
  const first = next();
  if (first === BYTES.LBRACE) return next() === BYTES.QUOTE;
  if (first === BYTES.LBRACKET) {
    const second = next();
    return second === BYTES.LBRACE || second === BYTES.RBRACKET || second === -1;
  }
  return false;
}

export interface ChromeReadOptions extends ReadOptions {
  batchSize?: number;
  /** Largest single value kept waiting for its end (default 64 MiB, or $VIZ_MAX_VALUE_MB). */
  maxValueBytes?: number;
}

const DEFAULT_MAX_VALUE_MB = 64;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

type State = 'start' | 'first-key' | 'keys' | 'events' | 'after-events' | 'done';

/**
 * Metadata events read before the first timed event wait for the base time
 * (so epoch-sized times keep every nanosecond); past this many, the first
 * one's time becomes the base.
 */
const MAX_UNBASED = 65_536;

/** Size of the bridge buffer used to finish an event cut by a chunk boundary. */
const BRIDGE = 64 * 1024;

export class ChromeJsonReader implements TraceSource {
  readonly meta: TraceMeta = emptyMeta(FORMAT_NAME);
  readonly diagnostics = new Diagnostics();
  private readonly batchSize: number;
  private baseSet = false;
  /** Events read before the base time was known, with their split timestamps. */
  private unbased: { ev: TraceEvent; int: number; frac: number }[] = [];
  private eventCount = 0;
  private sawTraceEvents = false;
  private readonly sc: EventScanner;
  private state: State = 'start';
  /** The batch being filled, and full batches waiting to be yielded. */
  private batch: TraceEvent[] = [];
  private ready: TraceEvent[][] = [];
  private lastEventEnd = 0;

  /** Largest single value (event or top-level value) buffered while waiting for its end. */
  private readonly maxValueBytes: number;

  constructor(
    private readonly input: Input,
    options: ChromeReadOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 4096;
    this.sc = new EventScanner(
      options.args ?? 'all',
      options.categoriesNeeded ?? true,
      options.nameIds ?? false,
    );
    const envMb = Number(process.env.VIZ_MAX_VALUE_MB);
    this.maxValueBytes = options.maxValueBytes ?? (envMb > 0 ? envMb : DEFAULT_MAX_VALUE_MB) * (1 << 20);
  }

  get bytesRead(): number {
    return this.input.bytesRead();
  }

  async *batches(): AsyncGenerator<EventBatch, void, undefined> {
    const sc = this.sc;
    let tail: Buffer | undefined; // unread bytes carried to the next attempt
    let tailBase = 0; // absolute offset of tail[0]
    let waiting: Buffer[] = [];
    let waitingLen = 0;
    let retryAt = 0; // carry must reach this many bytes before retrying
    let stopped = false; // a value over the size limit ended the reading

    const puller = new ChunkPuller(this.input);
    for (;;) {
      const chunk = await puller.next();
      const atEnd = chunk === undefined;
      if (chunk) {
        waiting.push(chunk);
        waitingLen += chunk.length;
        if ((tail ? tail.length : 0) + waitingLen < retryAt) continue;
      }
      let buf: Buffer;
      let base = tailBase;
      if (tail && waiting.length === 1 && tail.length < BRIDGE && waiting[0]!.length > 2 * BRIDGE) {
        // Finish the event cut by the previous chunk on a small bridge buffer, then scan the
        // new chunk in place: no copy of the whole chunk.
        const next = waiting[0]!;
        const bridge = Buffer.concat([tail, next.subarray(0, BRIDGE)]);
        sc.reset(bridge, tailBase);
        const bridged = this.scan();
        if (bridged >= tail.length) {
          base = tailBase + bridged;
          buf = next.subarray(bridged - tail.length);
        } else {
          buf = Buffer.concat([tail, next]);
        }
        yield* this.takeReady();
      } else if (tail && tail.length > 0) buf = Buffer.concat([tail, ...waiting]);
      else buf = waiting.length === 1 ? waiting[0]! : Buffer.concat(waiting);
      waiting = [];
      waitingLen = 0;
      sc.reset(buf, base);
      const mark = this.scan();
      yield* this.takeReady();
      tail = mark < buf.length ? buf.subarray(mark) : undefined;
      tailBase = base + mark;
      // Retry when the carry has doubled (linear time), but no later than just past the size limit.
      retryAt = tail ? Math.min(tail.length * 2, this.maxValueBytes + 1) : 0;
      if (tail && tail.length > this.maxValueBytes && !atEnd) {
        // One value bigger than any real event: stop here rather than buffer it (memory, and V8's
        // string length limit), keeping every event before it.
        const mib = Math.round(this.maxValueBytes / (1 << 20));
        this.diagnostics.add(
          'oversized_value',
          'data_loss',
          `${this.input.name}: byte ${tailBase}: a single value is larger than ${mib} MiB; reading stopped there, ${this.eventCount} complete events kept (VIZ_MAX_VALUE_MB raises the limit)`,
          1,
          tailBase,
        );
        stopped = true;
        await puller.close();
        break;
      }
      if (atEnd) break;
    }

    const state = this.state;
    if (state === 'start') {
      throw inputError(this.input.name, undefined, 'empty input: not a Chrome trace');
    }
    const truncatedGzip = puller.truncatedGzip;
    if ((state !== 'done' || truncatedGzip) && !stopped) {
      const partial = tail && tail.toString('latin1').trim().replace(/^,/, '').trim().length > 0;
      const where = truncatedGzip
        ? 'the gzip stream ends early'
        : partial
          ? `the input ends inside ${state === 'events' ? 'an event' : 'a value'} at byte ${tailBase}`
          : state === 'events'
            ? `the input ends without closing the event array`
            : 'the input ends without closing the top-level object';
      this.diagnostics.add(
        'truncated_input',
        'data_loss',
        `${this.input.name}: truncated: ${where}; kept ${this.eventCount} complete events (last ends at byte ${this.lastEventEnd})`,
        1,
        partial ? tailBase : tailBase + (tail ? tail.length : 0),
      );
    }
    if (!this.sawTraceEvents) {
      throw inputError(this.input.name, undefined, 'no "traceEvents" array: not a Chrome trace');
    }
    if (!this.baseSet) this.setBase(0);
    if (this.batch.length > 0) yield this.batch;
    this.batch = [];
  }

  private *takeReady(): Generator<EventBatch> {
    if (this.ready.length === 0) return;
    const ready = this.ready;
    this.ready = ready.slice(0, 0); // see `scan`
    yield* ready;
  }

  /**
   * Scans the scanner's buffer as far as it allows, advancing the container
   * state and filling batches. Returns the offset up to which everything was
   * consumed; the rest is an incomplete value to retry with more bytes.
   */
  private scan(): number {
    const sc = this.sc;
    const buf = sc.buf;
    let mark = 0;
    try {
      for (;;) {
        const state = this.state;
        if (state === 'events') {
          const c = sc.peek();
          if (c === BYTES.LBRACE) {
            const ev = sc.readEvent();
            mark = sc.pos;
            this.lastEventEnd = sc.base + mark;
            this.accept(ev, sc, this.batch);
            if (this.batch.length >= this.batchSize && (this.baseSet || this.unbased.length === 0)) {
              this.ready.push(this.batch);
              // Empty arrays with the elements kind of full ones (`ready` likewise): a `[]` literal
              // starts as an array of small integers, and the optimized `scan` and `accept`
              // deoptimized at their first push into one.
              this.batch = this.batch.slice(0, 0);
            }
          } else if (c === BYTES.COMMA) {
            sc.pos++;
            mark = sc.pos;
          } else if (c === BYTES.RBRACKET) {
            sc.pos++;
            mark = sc.pos;
            this.state = this.meta.container === 'object' ? 'after-events' : 'done';
          } else {
            sc.fail(`expected an event object, found ${sc.describe(c)}`);
          }
        } else if (state === 'start') {
          let c = sc.peek();
          if (c === 0xef && buf[sc.pos + 1] === 0xbb && buf[sc.pos + 2] === 0xbf) {
            sc.pos += 3;
            c = sc.peek();
          }
          if (c === BYTES.LBRACKET) {
            this.meta.container = 'array';
            this.sawTraceEvents = true;
            this.state = 'events';
          } else if (c === BYTES.LBRACE) {
            this.meta.container = 'object';
            this.state = 'first-key';
          } else {
            sc.fail(`not a Chrome trace: expected '[' or '{', found ${sc.describe(c)}`);
          }
          sc.pos++;
          mark = sc.pos;
        } else if (state === 'keys' || state === 'first-key' || state === 'after-events') {
          const c = sc.peek();
          if (c === BYTES.RBRACE) {
            sc.pos++;
            mark = sc.pos;
            this.state = 'done';
            continue;
          }
          if (state === 'first-key') {
            if (c !== BYTES.QUOTE) sc.fail(`expected a top-level key, found ${sc.describe(c)}`);
          } else {
            if (c !== BYTES.COMMA)
              sc.fail(`expected ',' or '}' after a top-level value, found ${sc.describe(c)}`);
            sc.pos++;
          }
          if (sc.peek() !== BYTES.QUOTE)
            sc.fail(`expected a top-level key, found ${sc.describe(buf[sc.pos]!)}`);
          const key = sc.readString();
          sc.expect(BYTES.COLON, "':'");
          if (key === 'traceEvents' && !this.sawTraceEvents) {
            if (sc.peek() !== BYTES.LBRACKET) sc.fail('"traceEvents" is not an array');
            sc.pos++;
            this.sawTraceEvents = true;
            mark = sc.pos;
            this.state = 'events';
          } else {
            const raw = sc.rawValue();
            this.meta.topLevel[key] = JSON.parse(raw);
            mark = sc.pos;
            this.state = 'keys';
          }
        } else {
          // done: only whitespace may follow
          const c = sc.peekOrEnd();
          if (c === -1) return sc.pos;
          this.diagnostics.add(
            'trailing_data',
            'error',
            `${this.input.name}: byte ${sc.base + sc.pos}: data after the end of the trace ignored`,
          );
          return buf.length;
        }
      }
    } catch (err) {
      if (err === NEED_MORE) {
        // Whitespace before the incomplete value is consumed: a stream of blanks must not pile up.
        while (mark < buf.length && isSpace(buf[mark]!)) mark++;
        return mark;
      }
      if (err instanceof JsonSyntaxError) throw inputError(this.input.name, err.offset, err.message);
      throw err;
    }
  }

  private accept(ev: TraceEvent, sc: EventScanner, batch: TraceEvent[]): void {
    this.eventCount++;
    if (ev.ph === '') {
      this.diagnostics.add(
        'missing_phase',
        'error',
        `${this.input.name}: event without "ph" ignored (first near byte ${sc.base + sc.pos})`,
      );
      return;
    }
    if (!KNOWN_PHASES.has(ev.ph)) {
      this.diagnostics.add(
        'unknown_phase',
        'info',
        `${this.input.name}: unknown phase "${ev.ph}" kept as is`,
      );
    }
    if (sc.hasTs && !(Math.abs(sc.tsInt) <= Number.MAX_SAFE_INTEGER)) {
      // Beyond 2^53 us (285 years) a time has no exact value, and as the base it would push every
      // other event out of range: drop the event.
      this.diagnostics.add(
        'invalid_time',
        'error',
        `${this.input.name}: byte ${sc.base + sc.pos}: event with "ts" out of range dropped`,
      );
      return;
    }
    if (!Number.isFinite(ev.dur)) {
      this.diagnostics.add(
        'invalid_time',
        'error',
        `${this.input.name}: byte ${sc.base + sc.pos}: "dur" out of range ignored`,
      );
      ev.dur = NO_DUR;
    }
    if (sc.hasTs) {
      if (this.baseSet) {
        ev.ts = (sc.tsInt - this.meta.baseUs) * 1000 + sc.tsFracNs;
      } else if (ev.ph !== 'M') {
        this.setBase(sc.tsInt);
        ev.ts = (sc.tsInt - this.meta.baseUs) * 1000 + sc.tsFracNs;
      } else {
        this.unbased.push({ ev, int: sc.tsInt, frac: sc.tsFracNs });
        // Memory stays bounded when a trace starts with very many metadata events.
        if (this.unbased.length >= MAX_UNBASED) this.setBase(this.unbased[0]!.int);
      }
    }
    batch.push(ev);
  }

  private setBase(us: number): void {
    this.meta.baseUs = us;
    this.baseSet = true;
    for (const u of this.unbased) u.ev.ts = (u.int - us) * 1000 + u.frac;
    this.unbased = [];
  }
}

export function readChrome(input: Input, options?: ChromeReadOptions): TraceSource {
  return new ChromeJsonReader(input, options);
}

export { VizError };
