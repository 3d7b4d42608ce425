/**
 * viz's tracing API: what a program adds to its own trace when it runs under `viz record`.
 * Every call is a no-op (and cheap) when it does not: the program needs no other change to run
 * untraced.
 *
 * ```ts
 * import { instant, counter, span, traced, Counter, TracedObject, start, stop, dump } from 'viz-trace';
 * instant('cache cleared', { entries: 120 });
 * counter('queue', { pending: 3, running: 1 });
 * await span('load config', async () => readConfig());
 * ```
 */
import type { RuntimeApi, Scope } from '../record/runtime/events.js';

export type { Scope };

/** The running recorder's API, or undefined when the program is not traced. */
function rt(): RuntimeApi | undefined {
  return (globalThis as { __viz_rt?: { api?: RuntimeApi } }).__viz_rt?.api;
}

/** True when the program runs under `viz record`. */
export function isTracing(): boolean {
  return rt() !== undefined;
}

/**
 * An instant event (a marker on the timeline) with optional args. `scope` draws it across the
 * thread (default), the process or the whole trace (Chrome's `s: t/p/g`).
 */
export function instant(name: string, args?: Record<string, unknown>, options?: { scope?: Scope }): void {
  rt()?.instant(name, args, options?.scope ?? 'thread');
}

/** A counter sample: each key is a series drawn as a line over time (Chrome `C`, a Perfetto counter track). */
export function counter(name: string, values: Record<string, number>): void {
  rt()?.counter(name, values);
}

/**
 * An object whose numeric property assignments are logged as counter samples of `name`
 * (VizTracer's VizCounter): `const c = new Counter('queue'); c.pending = 3;` draws the series
 * `pending`. Every sample carries all the object's numeric properties.
 */
export class Counter {
  constructor(name: string, initial?: Record<string, number>) {
    const state: Record<string, number> = {};
    const self = this as unknown as Record<string, unknown>;
    if (initial) for (const [k, v] of Object.entries(initial)) if (typeof v === 'number') state[k] = v;
    const proxy = new Proxy(self, {
      set(target, key, value) {
        target[key as string] = value;
        if (typeof key === 'string' && typeof value === 'number') {
          state[key] = value;
          rt()?.counter(name, { ...state });
        }
        return true;
      },
    });
    for (const [k, v] of Object.entries(state)) self[k] = v;
    if (Object.keys(state).length > 0) rt()?.counter(name, { ...state });
    return proxy;
  }
  [key: string]: unknown;
}

/**
 * An object whose state is logged as snapshots (VizTracer's VizObject; Chrome `N`/`O`/`D`): one
 * at creation, one after every property assignment, and its end at `destroy()`.
 */
export class TracedObject {
  constructor(name: string, initial?: Record<string, unknown>) {
    const api = rt();
    const id = api ? api.nextObjectId() : 0;
    const state: Record<string, unknown> = { ...initial };
    const self = this as unknown as Record<string, unknown>;
    Object.assign(self, state);
    Object.defineProperty(self, 'destroy', {
      value: () => rt()?.object(name, 'delete', id, undefined),
      enumerable: false,
    });
    api?.object(name, 'new', id, undefined);
    api?.object(name, 'snapshot', id, state);
    return new Proxy(self, {
      set(target, key, value) {
        target[key as string] = value;
        if (typeof key === 'string') {
          state[key] = value;
          rt()?.object(name, 'snapshot', id, state);
        }
        return true;
      },
    }) as unknown as TracedObject;
  }
  /** Ends the object's lifetime in the trace. */
  declare destroy: () => void;
  [key: string]: unknown;
}

/** Logs one snapshot of `state` for the object `name`/`id` (Chrome `O`), for objects you manage yourself. */
export function snapshot(name: string, id: number, state: Record<string, unknown>): void {
  rt()?.object(name, 'snapshot', id, state);
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (
    (typeof x === 'object' || typeof x === 'function') &&
    x !== null &&
    typeof (x as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs `fn` inside a slice named `name` (with `args` on it) and returns what it returns;
 * exceptions pass through. For an `async` function the time until its promise settles is also
 * an async span of that name (Perfetto draws it on a track of its own; the slice covers the
 * part that ran before its first `await`).
 */
export function span<T>(name: string, fn: () => T, args?: Record<string, unknown>): T {
  const api = rt();
  if (api === undefined) return fn();
  const isAsync = (fn as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'AsyncFunction';
  const [asyncFrame, spanId] = isAsync ? api.asyncBegin(name) : [0, 0];
  const endAsync = () => {
    if (isAsync) api.asyncEnd(asyncFrame, spanId);
  };
  const frame = api.enter(name, args);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    api.leave(frame, undefined, false);
    endAsync();
    throw err;
  }
  api.leave(frame, undefined, false);
  if (isThenable(result)) Promise.resolve(result).then(endAsync, endAsync);
  else endAsync();
  return result;
}

type AnyFunction = (this: never, ...args: never[]) => unknown;

/**
 * Marks a function for `viz record --sparse`: in sparse mode only listed functions are
 * instrumented, and the ones wrapped here are recorded too. Outside sparse mode (every function
 * is instrumented already) and untraced, it returns `fn` itself. Works as a wrapper,
 * `traced(fn)` / `traced(fn, 'name')`, and as a TypeScript 5 / TC39 method decorator, `@traced`.
 */
export function traced<F extends AnyFunction>(
  fn: F,
  nameOrContext?: string | { kind: string; name: string | symbol },
): F {
  const api = rt();
  if (api === undefined || !api.sparse || typeof fn !== 'function') return fn;
  const name =
    typeof nameOrContext === 'string'
      ? nameOrContext
      : nameOrContext && typeof nameOrContext === 'object'
        ? String(nameOrContext.name)
        : fn.name || '<anonymous>';
  const wrapped = function (this: unknown, ...args: never[]) {
    const frame = api.enter(name, undefined);
    try {
      return Reflect.apply(fn, this, args);
    } finally {
      api.leave(frame, undefined, false);
    }
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  return wrapped as unknown as F;
}

/** Resumes recording calls after `stop()` (or from the start with `viz record --paused`). */
export function start(): void {
  rt()?.setPaused(false);
}

/** Stops recording calls (frames open now end here); instants, counters and snapshots still record. */
export function stop(): void {
  rt()?.setPaused(true);
}

/**
 * Writes the rings as they are now to `path` (a `.vizdump`; `viz convert` turns it into any
 * format) and returns the bytes written; 0 when not traced. Recording goes on.
 */
export function dump(path: string): number {
  return rt()?.dump(path) ?? 0;
}

export { pinoDestination } from './pino.js';
