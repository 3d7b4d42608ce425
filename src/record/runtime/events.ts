/**
 * Everything beyond calls that the traced program's thread records: named instants, counters,
 * object snapshots, spans, logged values (arguments, return values, exceptions), stop/start.
 * One instance per thread, built by the preload on top of that thread's recorder; instrumented
 * code reaches the value-logging functions through the runtime global (`la`, `lr`, `lt`, `lc`),
 * the public API (`src/api`) through its `api` property.
 *
 * Names become frames of their own (no file, line 0), registered once per thread.
 * Every rendering goes through `render.ts`: bounded, never runs program code.
 */
import { InstantScope, Kind, ObjectPhase, PayloadRole } from '../../formats/ring/layout.js';
import type { Recorder } from './recorder.js';
import { renderNamed, renderValue } from './render.js';

export type Scope = 'thread' | 'process' | 'global';

/** What the public API calls (the shape is part of the contract between `src/api` and the runtime). */
export interface RuntimeApi {
  instant(name: string, args: unknown, scope: Scope): void;
  counter(name: string, values: Record<string, number>): void;
  object(name: string, phase: 'new' | 'snapshot' | 'delete', id: number, state: unknown): void;
  /** Enters a named slice; returns its frame id for `leave`. */
  enter(name: string, args: unknown): number;
  leave(frameId: number, returned: unknown, logReturn: boolean): void;
  asyncBegin(name: string): [frameId: number, span: number];
  asyncEnd(frameId: number, span: number): void;
  /** `--sparse`: the API's `traced()` wraps functions only then (otherwise they are instrumented). */
  readonly sparse: boolean;
  setPaused(paused: boolean): void;
  readonly paused: boolean;
  dump(path: string): number;
  nextObjectId(): number;
}

const SCOPES: Record<Scope, number> = {
  thread: InstantScope.thread,
  process: InstantScope.process,
  global: InstantScope.global,
};

export interface ThreadEvents {
  api: RuntimeApi;
  /** Logs `names` = `values` for the frame just entered (`--log-args`). */
  logArgs(frameId: number, names: string, ...values: unknown[]): void;
  /** Logs the value a frame returns (`--log-return`); returns it. */
  logReturn<T>(frameId: number, value: T): T;
  /** `throw X` in instrumented code (`--log-exceptions`); returns X. */
  logThrow<T>(error: T): T;
  /** `catch (e)` in instrumented code: logs e unless its throw was logged already. */
  logCatch(error: unknown): void;
  /** An error that reached the top (process `uncaughtExceptionMonitor`), unless its throw was logged. */
  logUncaught(error: unknown): void;
  /** An instant with args (console text, exceptions ...). */
  instant(name: string, argsJson: string, scope?: Scope): void;
  counterJson(name: string, seriesJson: string): void;
  gcSlice(startMonotonicNs: number, durationNs: number, name: string): void;
}

export function threadEvents(rec: Recorder, options: { sparse: boolean }): ThreadEvents {
  const frames = new Map<string, number>();
  const nameFrame = (name: string): number => {
    let id = frames.get(name);
    if (id === undefined) {
      id = rec.registerFrames([{ name, file: '', line: 0, column: 0 }]);
      frames.set(name, id);
    }
    return id;
  };
  const splitNames = new Map<string, string[]>();
  let paused = false;
  let nextObject = 0;
  // The last error whose throw was logged: its catch is not logged again.
  let lastThrown: unknown = undefined;
  let hasLastThrown = false;

  const withArgs = (json: string): void => {
    if (json !== '' && json !== '{}') rec.payload(PayloadRole.ofPrevious, json);
  };
  const argsJson = (args: unknown): string => (args === undefined ? '' : renderValue(args));
  const storeReturn = (value: unknown): void => {
    if (!paused) rec.payload(PayloadRole.returnValue, renderValue(value));
  };

  const instant = (name: string, json: string, scope: Scope = 'thread'): void => {
    rec.record(Kind.instant, nameFrame(name), SCOPES[scope] ?? 0);
    withArgs(json);
  };
  const logError = (error: unknown, how: 'thrown' | 'caught' | 'uncaught'): void => {
    instant('exception', `{"how":"${how}","error":${renderValue(error)}}`);
  };

  const logUnlessThrown = (error: unknown, how: 'caught' | 'uncaught'): void => {
    if (hasLastThrown && lastThrown === error) {
      // logged when it was thrown; forget it so that the next catch of the same value is seen
      hasLastThrown = false;
      lastThrown = undefined;
      return;
    }
    logError(error, how);
  };

  const api: RuntimeApi = {
    instant: (name, args, scope) => instant(String(name), argsJson(args), scope),
    counter(name, values) {
      rec.record(Kind.counter, nameFrame(String(name)), 0);
      withArgs(renderValue(values));
    },
    object(name, phase, id, state) {
      const p =
        phase === 'new'
          ? ObjectPhase.created
          : phase === 'delete'
            ? ObjectPhase.destroyed
            : ObjectPhase.snapshot;
      rec.record(Kind.object, nameFrame(String(name)), p | ((id & 0x3fffff) << 2));
      if (phase === 'snapshot') withArgs(renderValue(state));
    },
    enter(name, args) {
      const id = nameFrame(String(name));
      rec.enter(id);
      if (!paused) withArgs(argsJson(args));
      return id;
    },
    leave(frameId, returned, logReturn) {
      if (logReturn) storeReturn(returned);
      rec.exit(frameId);
    },
    asyncBegin(name) {
      const id = nameFrame(String(name));
      return [id, rec.asyncBegin(id)];
    },
    asyncEnd: (frameId, span) => rec.asyncEnd(frameId, span),
    sparse: options.sparse,
    setPaused(p) {
      paused = p;
      rec.setPaused(p);
    },
    get paused() {
      return paused;
    },
    dump: (path) => rec.dump(path),
    nextObjectId: () => (nextObject = (nextObject + 1) & 0x3fffff),
  };

  return {
    api,
    logArgs(frameId, names, ...values) {
      void frameId;
      if (paused) return;
      let list = splitNames.get(names);
      if (list === undefined) splitNames.set(names, (list = names.split(',')));
      rec.payload(PayloadRole.ofPrevious, renderNamed(list, values));
    },
    logReturn(frameId, value) {
      void frameId;
      storeReturn(value);
      return value;
    },
    logThrow(error) {
      lastThrown = error;
      hasLastThrown = true;
      logError(error, 'thrown');
      return error;
    },
    logCatch: (error) => logUnlessThrown(error, 'caught'),
    logUncaught: (error) => logUnlessThrown(error, 'uncaught'),
    instant,
    counterJson(name, json) {
      rec.record(Kind.counter, nameFrame(name), 0);
      withArgs(json);
    },
    gcSlice(start, duration, name) {
      rec.timedSlice(start, duration, nameFrame(name));
    },
  };
}
