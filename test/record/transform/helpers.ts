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

/** A fake runtime that records `>name` / `<name` into `log`. */
export function recordingRuntime(log: string[]): { rt: object; frames: () => FrameInfo[] } {
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
  // let stray microtasks settle before returning
  await new Promise((r) => setImmediate(r));
  return {
    value: inst.value,
    error: inst.error,
    log,
    marks: log.filter((s) => !/^[<>]/.test(s)),
    result,
    orig: { ...orig, marks: origMarks },
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

/** The run behaves like the original (value, error, marks) and its events nest. */
export function assertSameBehaviour(r: Run): void {
  assert.deepEqual(r.marks, r.orig.marks, 'marks differ from the original program');
  assert.deepEqual(r.value, r.orig.value, 'value differs from the original program');
  assert.equal(String(r.error), String(r.orig.error), 'error differs from the original program');
  assertNested(r.log);
}
