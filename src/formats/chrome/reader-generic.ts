/**
 * The reference Chrome JSON reader, built on stream-json's token pipeline.
 *
 * It is several times slower than the byte scanner in `reader.ts` but follows
 * the JSON grammar through a general-purpose parser, so the tests use it as
 * the oracle the fast path must agree with, event for event. Set
 * `VIZ_CHROME_READER=generic` to read with it (for troubleshooting a file the
 * fast path rejects).
 */
import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import type StreamJson from 'stream-json';
import type AssemblerClass from 'stream-json/Assembler.js';
import type { Input } from '../../io/input.js';
import { Diagnostics } from '../../model/diagnostics.js';
import { inputError } from '../../model/errors.js';
import { NO_DUR, NO_TS, type EventBatch, type TraceEvent } from '../../model/event.js';
import { emptyMeta, type TraceMeta, type TraceSource } from '../../model/source.js';
import { FORMAT_NAME, KNOWN_PHASES } from './reader.js';
import { splitMicros, type SplitTime } from './scanner.js';

const TYPED = new Set(['ph', 'name', 'cat', 'ts', 'dur', 'pid', 'tid', 'id', 'args']);

interface Token {
  name: string;
  value?: unknown;
}

export class GenericChromeReader implements TraceSource {
  readonly meta: TraceMeta = emptyMeta(FORMAT_NAME);
  readonly diagnostics = new Diagnostics();

  constructor(private readonly input: Input) {}

  get bytesRead(): number {
    return this.input.bytesRead();
  }

  async *batches(): AsyncGenerator<EventBatch, void, undefined> {
    // Loaded here: only this reference reader uses stream-json, and its load time is start-up time.
    const require = createRequire(import.meta.url);
    const streamJson = require('stream-json') as typeof StreamJson;
    const Assembler = require('stream-json/Assembler.js') as typeof AssemblerClass;
    const tokens = Readable.from(this.input.chunks()).pipe(
      streamJson.parser({ packValues: true, streamValues: false }),
    );
    let depth = 0;
    let key: string | undefined;
    let inEvents = false;
    let asm: InstanceType<typeof Assembler> | undefined;
    let asmDepth = 0;
    let batch: TraceEvent[] = [];
    const pending: { ev: TraceEvent; t: SplitTime }[] = [];
    let baseSet = false;
    const time: SplitTime = { int: 0, fracNs: 0 };
    try {
      for await (const token of tokens as AsyncIterable<Token>) {
        if (asm) {
          (asm as unknown as Record<string, (v: unknown) => void>)[token.name]?.(token.value);
          if (token.name === 'startObject' || token.name === 'startArray') asmDepth++;
          else if (token.name === 'endObject' || token.name === 'endArray') asmDepth--;
          if (asmDepth === 0 && !isStart(token.name)) {
            const value = asm.current as unknown;
            asm = undefined;
            if (inEvents) {
              const ev = this.toEvent(value, time);
              if (ev) {
                if (ev.ph === '') {
                  this.diagnostics.add(
                    'missing_phase',
                    'error',
                    `${this.input.name}: event without "ph" ignored`,
                  );
                } else {
                  if (!KNOWN_PHASES.has(ev.ph))
                    this.diagnostics.add('unknown_phase', 'info', `unknown phase "${ev.ph}"`);
                  if (ev.ts !== NO_TS) {
                    if (!baseSet && ev.ph !== 'M') {
                      baseSet = true;
                      this.meta.baseUs = time.int;
                      for (const p of pending) p.ev.ts = (p.t.int - time.int) * 1000 + p.t.fracNs;
                    }
                    if (baseSet) ev.ts = (time.int - this.meta.baseUs) * 1000 + time.fracNs;
                    else pending.push({ ev, t: { ...time } });
                  }
                  batch.push(ev);
                  if (batch.length >= 4096 && baseSet) {
                    yield batch;
                    batch = [];
                  }
                }
              }
            } else if (key !== undefined) {
              this.meta.topLevel[key] = value;
            }
          }
          continue;
        }
        switch (token.name) {
          case 'startArray':
            if (depth === 0) {
              this.meta.container = 'array';
              inEvents = true;
              depth++;
            } else if (depth === 1 && key === 'traceEvents') {
              inEvents = true;
              depth++;
            } else startAssembler();
            break;
          case 'startObject':
            if (depth === 0) {
              this.meta.container = 'object';
              depth++;
            } else startAssembler();
            break;
          case 'endArray':
            depth--;
            inEvents = false;
            break;
          case 'endObject':
            depth--;
            break;
          case 'keyValue':
            key = token.value as string;
            break;
          case 'stringValue':
          case 'numberValue':
          case 'nullValue':
          case 'trueValue':
          case 'falseValue':
            if (depth === 1 && !inEvents && key !== undefined) this.meta.topLevel[key] = scalar(token);
            break;
        }
        function startAssembler(): void {
          asm = new Assembler();
          asmDepth = 1;
          (asm as unknown as Record<string, (v: unknown) => void>)[token.name]?.(token.value);
        }
      }
    } catch (err) {
      if (batch.length > 0 || this.meta.container) {
        this.diagnostics.add(
          'truncated_input',
          'data_loss',
          `${this.input.name}: truncated: ${(err as Error).message}`,
        );
      } else {
        throw inputError(this.input.name, undefined, (err as Error).message);
      }
    }
    if (!baseSet) for (const p of pending) p.ev.ts = (p.t.int - this.meta.baseUs) * 1000 + p.t.fracNs;
    if (batch.length > 0) yield batch;
  }

  private toEvent(value: unknown, time: SplitTime): TraceEvent | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const o = value as Record<string, unknown>;
    let extra: Record<string, string> | undefined;
    for (const k of Object.keys(o)) if (!TYPED.has(k)) (extra ??= {})[k] = JSON.stringify(o[k]);
    let ts = NO_TS;
    if (typeof o.ts === 'number' || typeof o.ts === 'string') {
      const v = Number(o.ts);
      if (Number.isFinite(v)) {
        splitMicros(v, time);
        ts = 0; // rebased by the caller
      }
    }
    const num = (v: unknown): number | undefined =>
      typeof v === 'number'
        ? v
        : typeof v === 'string' && v !== '' && Number.isFinite(Number(v))
          ? Number(v)
          : undefined;
    const d = num(o.dur);
    return {
      ph: typeof o.ph === 'string' ? o.ph : o.ph === undefined ? '' : JSON.stringify(o.ph),
      name: typeof o.name === 'string' ? o.name : o.name === undefined ? '' : JSON.stringify(o.name),
      cat: typeof o.cat === 'string' ? o.cat : o.cat === undefined ? '' : JSON.stringify(o.cat),
      ts,
      dur: d === undefined ? NO_DUR : Math.round(d * 1000),
      pid: ident(o.pid),
      tid: ident(o.tid),
      id: o.id === undefined ? '' : JSON.stringify(o.id),
      args: o.args === undefined ? '' : JSON.stringify(o.args),
      extra,
      nameId: 0,
    };
  }
}

function ident(v: unknown): number | string {
  if (typeof v === 'number' || typeof v === 'string') return v;
  return v === undefined ? 0 : JSON.stringify(v);
}

function isStart(name: string): boolean {
  return name === 'startObject' || name === 'startArray';
}

function scalar(token: Token): unknown {
  switch (token.name) {
    case 'numberValue':
      return Number(token.value);
    case 'nullValue':
      return null;
    case 'trueValue':
      return true;
    case 'falseValue':
      return false;
    default:
      return token.value;
  }
}

export function readChromeGeneric(input: Input): TraceSource {
  return new GenericChromeReader(input);
}
