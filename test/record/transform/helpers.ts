import assert from 'node:assert/strict';
import {
  instrument,
  unpackFrames,
  type FrameInfo,
  type InstrumentOptions,
  type PackedFrames,
  type TransformResult,
} from '../../../src/record/transform/index.js';

export const BASE = 1000;

/** Every value-logging option on. */
export const LOG_ALL = { args: true, return: true, exceptions: true } as const;

/** One call of a value-logging function: `['la', frame, names, values]`, `['lr', frame, value]`, `['lt', error]`, `['lc', error]`. */
export type LogCall = unknown[];

/**
 * A fake runtime that records `>name` / `<name` into `log` and, when `calls` is given, the
 * value-logging calls into `calls` (without it the runtime has no `la`/`lr`/`lt`/`lc`: the
 * prologue's fallbacks are used).
 */
export function recordingRuntime(
  log: string[],
  calls?: LogCall[],
): { rt: object; frames: () => FrameInfo[] } {
  let frames: FrameInfo[] = [];
  const name = (id: number): string => frames[id - BASE]?.name ?? `?${id}`;
  const rt = {
    reg(p: PackedFrames): number {
      frames = unpackFrames(p);
      return BASE;
    },
    e(id: number): void {
      log.push('>' + name(id));
    },
    x(id: number): void {
      log.push('<' + name(id));
    },
  };
  if (calls) {
    Object.assign(rt, {
      la(id: number, names: string, ...values: unknown[]): void {
        calls.push(['la', name(id), names, values]);
      },
      lr(id: number, value: unknown): unknown {
        calls.push(['lr', name(id), value]);
        return value;
      },
      lt(error: unknown): unknown {
        calls.push(['lt', error]);
        return error;
      },
      lc(error: unknown): void {
        calls.push(['lc', error]);
      },
    });
  }
  return { rt, frames: () => frames };
}

/** Evaluates script code (a function body: top-level `return` allowed) with the given runtime installed. */
export function evalScript(code: string, rt: object | undefined, env: Record<string, unknown>): unknown {
  const g = globalThis as Record<string, unknown>;
  const had = '__viz_rt' in g;
  const prev = g.__viz_rt;
  if (rt) g.__viz_rt = rt;
  else delete g.__viz_rt;
  try {
    const names = Object.keys(env);
    const fn = new Function(...names, code) as (...a: unknown[]) => unknown;
    return fn(...names.map((n) => env[n]));
  } finally {
    if (had) g.__viz_rt = prev;
    else delete g.__viz_rt;
  }
}

export interface Run {
  value: unknown;
  error: unknown;
  /** Marks and enter/exit events, in order. */
  log: string[];
  /** The marks alone. */
  marks: string[];
  result: TransformResult;
  /** The same program, not instrumented. */
  orig: { value: unknown; error: unknown; marks: string[] };
  /** The same program instrumented with every value-logging option on (`LOG_ALL`). */
  logged: { value: unknown; error: unknown; log: string[]; calls: LogCall[]; result: TransformResult };
}

async function settle(f: () => unknown): Promise<{ value: unknown; error: unknown }> {
  try {
    return { value: await f(), error: undefined };
  } catch (error) {
    return { value: undefined, error };
  }
}

/** Runs `src` (a script body with `mark(s)` available) instrumented and not, awaiting a returned promise. */
export async function run(
  src: string,
  opts: Partial<InstrumentOptions> = {},
  env: Record<string, unknown> = {},
): Promise<Run> {
  const result = instrument(src, { filename: 'test.js', sourceType: 'script', ...opts });
  const log: string[] = [];
  const { rt } = recordingRuntime(log);
  const inst = await settle(() =>
    evalScript(result.code, rt, { ...env, mark: (s: string) => void log.push(s) }),
  );
  const origMarks: string[] = [];
  const orig = await settle(() =>
    evalScript(src, undefined, { ...env, mark: (s: string) => void origMarks.push(s) }),
  );
  // let stray microtasks settle before running the logging variant
  await new Promise((r) => setImmediate(r));
  const lresult = instrument(src, { filename: 'test.js', sourceType: 'script', ...opts, log: LOG_ALL });
  const llog: string[] = [];
  const calls: LogCall[] = [];
  const lrt = recordingRuntime(llog, calls).rt;
  const linst = await settle(() =>
    evalScript(lresult.code, lrt, { ...env, mark: (s: string) => void llog.push(s) }),
  );
  await new Promise((r) => setImmediate(r));
  return {
    value: inst.value,
    error: inst.error,
    log,
    marks: log.filter((s) => !/^[<>]/.test(s)),
    result,
    orig: { ...orig, marks: origMarks },
    logged: { ...linst, log: llog, calls, result: lresult },
  };
}

/** Events must nest: every `<f` closes the innermost open `>f`, and nothing stays open. */
export function assertNested(log: string[]): void {
  const stack: string[] = [];
  for (const [i, ev] of log.entries()) {
    if (ev.startsWith('>')) stack.push(ev.slice(1));
    else if (ev.startsWith('<')) {
      const top = stack.pop();
      assert.equal(
        top,
        ev.slice(1),
        `event ${i} (${ev}) does not close the innermost frame; log: ${log.join(' ')}`,
      );
    }
  }
  assert.deepEqual(stack, [], `frames left open: ${stack.join(', ')}`);
}

/**
 * The run behaves like the original (value, error, marks) and its events nest; so does the run
 * with value logging, whose events are those of the run without it.
 */
export function assertSameBehaviour(r: Run): void {
  assert.deepEqual(r.marks, r.orig.marks, 'marks differ from the original program');
  assert.deepEqual(r.value, r.orig.value, 'value differs from the original program');
  assert.equal(String(r.error), String(r.orig.error), 'error differs from the original program');
  assertNested(r.log);
  assert.deepEqual(r.logged.log, r.log, 'events or marks differ with value logging');
  assert.deepEqual(r.logged.value, r.orig.value, 'value differs with value logging');
  assert.equal(String(r.logged.error), String(r.orig.error), 'error differs with value logging');
}
