/**
 * The preload `viz record` puts in NODE_OPTIONS (`--import`): it runs inside every Node.js process
 * the traced program starts, before the program's own code.
 *
 * - installs the runtime global the instrumented code calls (`__viz_rt`: `reg` frames, `e` enter,
 *   `x` exit), bound to this thread's native ring;
 * - instruments CommonJS through `Module.prototype._compile` (so it sees the JavaScript tsx or
 *   another compiler produced, with its inline source map) and ES modules through load hooks
 *   (`module.registerHooks` on Node >= 22.15, `module.register` + a hooks thread on Node 20);
 * - turns source maps on, so stack traces show original lines and columns, and makes
 *   `Function.prototype.toString` return the original text of instrumented functions;
 * - writes `<pid>.vizdump` into `$VIZ_OUT_DIR` when the process exits (normally, through
 *   `process.exit()`, an uncaught exception or an unhandled rejection: all of them emit `exit`).
 *   Signals and crashes are dumped by the native recorder's own handlers.
 *
 * Launchers (npm, npx, yarn, pnpm, the tsx CLI) are not traced: they only pass NODE_OPTIONS on to
 * the Node.js process that runs the program. Code made by `eval` or `new Function` is not traced.
 */
import * as nodeModule from 'node:module';
import { writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as workerThreads from 'node:worker_threads';
import { filterConfigFromEnv, shouldTrace, type InstrumentConfig } from './trace-filter.js';
import { dumpOnTerminate, followChildProcesses, nameWorkers, stopFollowing } from './follow.js';

const env = process.env;
const ONCE = Symbol.for('viz.record.preload');
const g = globalThis as unknown as Record<PropertyKey, unknown>;

/** Scripts that only start another program. */
const LAUNCHER = new RegExp(
  [
    String.raw`(?:^|[\\/])(?:npm|npx|pnpm|pnpx|yarn|yarnpkg|corepack|tsx)(?:-cli|-[\d.]+)?(?:\.[cm]?js)?$`,
    String.raw`[\\/]tsx[\\/]dist[\\/]cli\.mjs$`,
    String.raw`[\\/]corepack[\\/]dist[\\/][^\\/]+\.js$`,
  ].join('|'),
);

export function isLauncher(script: string | undefined): boolean {
  return script !== undefined && LAUNCHER.test(script);
}

const { isMainThread } = workerThreads;
/** Node's own loader-hooks thread (Node >= 22.14 says so): nothing of the program runs there. */
const isInternalThread = (workerThreads as { isInternalThread?: boolean }).isInternalThread === true;

async function start(outDir: string): Promise<void> {
  const log = logOptionsFromEnv(env);
  const cfg: InstrumentConfig = {
    root: env.VIZ_ROOT ?? '',
    cacheDir: env.VIZ_CACHE_DIR ?? '',
    ...filterConfigFromEnv(env),
    log: { args: log.has('args'), return: log.has('return'), exceptions: log.has('exceptions') },
  };
  const [{ startRecorder }, fragments, { threadEvents }, { startMonitors }] = await Promise.all([
    import('./recorder.js'),
    import('../transform/fragments.js'),
    import('./events.js'),
    import('./monitors.js'),
  ]);
  const { PROLOGUE_MARK, RUNTIME_GLOBAL, stripInstrumentation } = fragments;
  // The transform (acorn, magic-string, source maps) loads on the first file to instrument: an ES
  // module program on Node 20 never needs it in this thread (its hooks thread has its own).
  // Modules loaded while the transform itself loads are not instrumented (see `lazy`).
  const files = lazy(() => requireHere('./instrument-file.js') as typeof import('./instrument-file.js'));
  const dumpPath = join(outDir, `${process.pid}.vizdump`);
  const capacity = Number(env.VIZ_BUFFER_SIZE) || undefined;

  // 1. The runtime global, before any instrumented code can run. The recorder installs the
  //    signal and crash handlers; the exit dump (main thread: every thread's ring) is ours, so
  //    that it comes after the program's own `exit` listeners.
  //    A worker's ring is named after the worker (`follow.ts`); the native dump of the main
  //    thread holds every thread's ring, the JavaScript fallback's worker rings dump themselves
  //    (`<pid>.t<threadId>.vizdump`, merged by `viz record`).
  const workerName = env.VIZ_THREAD_NAME;
  if (!isMainThread) delete env.VIZ_THREAD_NAME;
  const recorder = startRecorder({
    capacity,
    dumpPath,
    threadName: !isMainThread && workerName ? `${workerName} #${workerThreads.threadId}` : undefined,
    exitHooks: !isMainThread,
    signals: isMainThread,
  });
  const events = threadEvents(recorder, { sparse: cfg.only !== undefined });
  const beforeDump = startMonitors(events, {
    console: log.has('console'),
    gc: log.has('gc'),
    eventLoop: log.has('event-loop'),
    memory: log.has('memory'),
    intervalMs: Number(env.VIZ_LOG_INTERVAL_MS) || 100,
  });
  if (log.has('exceptions')) process.on('uncaughtExceptionMonitor', (err) => events.logUncaught(err));
  if (isMainThread)
    dumpAfterExitListeners(() => {
      beforeDump();
      recorder.dump(dumpPath);
    });
  else process.on('exit', beforeDump);
  if (env.VIZ_PAUSED === '1') events.api.setPaused(true);
  g[RUNTIME_GLOBAL] = {
    reg: (packed: Parameters<typeof recorder.registerPacked>[0]) => recorder.registerPacked(packed),
    e: recorder.enter,
    x: recorder.exit,
    ab: recorder.asyncBegin,
    ae: recorder.asyncEnd,
    la: events.logArgs,
    lr: events.logReturn,
    lt: events.logThrow,
    lc: events.logCatch,
    api: events.api,
  };

  // Workers and child processes (`--no-follow`: none of the children).
  nameWorkers(recorder.backend === 'js');
  if (!isMainThread && recorder.backend === 'js') {
    const own = join(outDir, `${process.pid}.t${workerThreads.threadId}.vizdump`);
    dumpOnTerminate(() => recorder.dump(own));
  }
  if (env.VIZ_NO_FOLLOW === '1') stopFollowing(env);
  else followChildProcesses(env);

  // 2. Original positions in stack traces, original text from Function.prototype.toString.
  process.setSourceMapsEnabled(true);
  patchToString(stripInstrumentation);

  // 3. CommonJS (and anything compiled to it by tsx, ts-node, babel-register ...).
  hookCommonJs((content, filename, format) => {
    if (lazyLoading || content.includes(PROLOGUE_MARK) || !shouldTrace(filename, cfg)) return undefined;
    return files().instrumentFile(content, filename, format === 'module' ? 'module' : 'script', cfg);
  });

  // 4. ES modules.
  await hookEsm(cfg, () => files().instrumentFile);

  if (!isMainThread) return;
  // 5. Tell `viz record` which process this was (it collects the main process's dump).
  writeFileSync(
    join(outDir, `${process.pid}.meta.json`),
    JSON.stringify({ pid: process.pid, ppid: process.ppid, argv: process.argv, startedAt: Date.now() }),
  );
  if (env.VIZ_DEBUG) {
    process.on('exit', () => {
      const { instrumented, failed, firstFailure } = files.loaded()
        ? files().loadStats
        : { instrumented: 0, failed: 0, firstFailure: '' };
      const st = recorder.stats();
      process.stderr.write(
        `viz record: pid ${process.pid}: ${recorder.backend} recorder, ${st.written} events (${st.fastCalls} fast calls); ` +
          `${instrumented} file(s) instrumented in this thread, ${failed} failed` +
          `${failed ? `: ${firstFailure}` : ''}\n`,
      );
    });
  }
}

/**
 * Runs `dump` once, after every `exit` listener (ours would otherwise be the first, and calls made
 * by the program's own listeners would be missing). Every way out emits `exit` through
 * `process.emit`: the end of the event loop, `process.exit()`, uncaught exceptions and unhandled
 * rejections.
 */
function dumpAfterExitListeners(dump: () => void): void {
  const emit = process.emit;
  let dumped = false;
  const dumpOnce = () => {
    if (dumped) return;
    dumped = true;
    try {
      dump();
    } catch (err) {
      process.stderr.write(`viz: ${(err as Error).message}\n`);
    }
  };
  const patched = {
    emit(this: NodeJS.Process, event: string | symbol, ...args: unknown[]): boolean {
      if (event !== 'exit' || dumped)
        return (emit as (...a: unknown[]) => boolean).call(this, event, ...args);
      try {
        return (emit as (...a: unknown[]) => boolean).call(this, event, ...args);
      } finally {
        dumpOnce();
      }
    },
  };
  process.emit = patched.emit as typeof process.emit;
  // An `exit` listener that calls `process.exit()` itself (tape does) ends the process right
  // there, through `process.reallyExit`, before the listeners return: dump on that path too.
  const p = process as unknown as { reallyExit?: (code?: number) => never };
  const reallyExit = p.reallyExit;
  if (typeof reallyExit === 'function') {
    p.reallyExit = function (this: unknown, code?: number) {
      dumpOnce();
      return reallyExit.call(this, code);
    } as typeof reallyExit;
  }
}

/** `VIZ_LOG=args,return,exceptions,console,gc,event-loop,memory`: what `viz record --log-*` asked for. */
function logOptionsFromEnv(e: NodeJS.ProcessEnv): Set<string> {
  return new Set((e.VIZ_LOG ?? '').split(',').filter((x) => x !== ''));
}

const requireHere = nodeModule.createRequire(import.meta.url);

/** True while a `lazy` value is being computed: the hooks then let every module through as it is. */
let lazyLoading = false;

/**
 * `get()` on first use, then the same value; `loaded()` says whether it ran. The modules `get`
 * loads (the transform and its dependencies) pass through the very hooks that need them: they run
 * unchanged (`lazyLoading`), and so does any later import of the same module by the program.
 */
function lazy<T>(get: () => T): (() => T) & { loaded(): boolean } {
  let value: T | undefined;
  let done = false;
  const f = () => {
    if (!done) {
      lazyLoading = true;
      try {
        value = get();
      } finally {
        lazyLoading = false;
      }
      done = true;
    }
    return value as T;
  };
  return Object.assign(f, { loaded: () => done });
}

type CompileHook = (content: string, filename: string, format: unknown) => string | undefined;

function hookCommonJs(transform: CompileHook): void {
  const proto = (nodeModule as unknown as { Module: { prototype: Record<string, unknown> } }).Module
    .prototype;
  const original = proto._compile as (
    this: unknown,
    content: string,
    filename: string,
    ...rest: unknown[]
  ) => unknown;
  const patched = {
    _compile(this: unknown, content: string, filename: string, ...rest: unknown[]): unknown {
      if (typeof content === 'string' && typeof filename === 'string') {
        const out = transform(content, filename, rest[0]);
        if (out !== undefined) content = out;
      }
      return original.call(this, content, filename, ...rest);
    },
  };
  proto._compile = patched._compile;
}

type InstrumentFile = typeof import('./instrument-file.js').instrumentFile;

async function hookEsm(cfg: InstrumentConfig, instrumentFile: () => InstrumentFile): Promise<void> {
  const registerHooks = (nodeModule as unknown as { registerHooks?: (hooks: object) => unknown })
    .registerHooks;
  if (typeof registerHooks === 'function') {
    // Node >= 22.15: synchronous, in-thread hooks.
    const { transformLoaded, wants } = (await import('./esm-hooks.js')) as typeof import('./esm-hooks.js');
    registerHooks({
      load(url: string, context: object, nextLoad: (url: string, context: object) => object) {
        const result = nextLoad(url, context);
        if (lazyLoading || !wants(url, result, cfg, false)) return result;
        return transformLoaded(url, result, cfg, false, instrumentFile());
      },
    });
    return;
  }
  // Node 20: hooks run in a separate thread. A worker does not inherit the main thread's hooks:
  // it registers its own (an already instrumented source is left as it is, should both run).
  if (isMainThread) await importLaterPreloads();
  nodeModule.register(new URL('./esm-hooks.js', import.meta.url), { data: cfg });
}

/**
 * Hooks registered later run earlier. The program's own `--import tsx` (on the command line, so
 * after NODE_OPTIONS) must be registered before ours, or our hook would see TypeScript: import
 * those preloads now; when Node imports them after us they are already evaluated.
 */
async function importLaterPreloads(): Promise<void> {
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    let spec: string | undefined;
    if (arg === '--import') spec = argv[++i];
    else if (arg.startsWith('--import=')) spec = arg.slice('--import='.length);
    if (!spec) continue;
    const url = resolvePreload(spec);
    // Never ourselves: importing a module from its own top-level await never settles.
    if (url && url !== import.meta.url) await import(url);
  }
}

function resolvePreload(spec: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec)) return spec;
  if (spec.startsWith('.') || spec.startsWith('/')) return pathToFileURL(resolvePath(spec)).href;
  try {
    const require = nodeModule.createRequire(join(process.cwd(), '[viz-preload]'));
    return pathToFileURL(require.resolve(spec)).href;
  } catch {
    return undefined;
  }
}

/** `fn.toString()` of an instrumented function returns its original text. */
function patchToString(strip: (text: string) => string): void {
  const proto = Function.prototype;
  const original = proto.toString;
  const patched = {
    toString(this: unknown): string {
      if (this === patched.toString) return 'function toString() { [native code] }';
      const text = original.call(this as () => void);
      return text.includes('__vz') ? strip(text) : text;
    },
  };
  Object.defineProperty(proto, 'toString', {
    value: patched.toString,
    writable: true,
    enumerable: false,
    configurable: true,
  });
}

// Last, so that every declaration above is initialised before the program can reach the hooks.
if (g[ONCE] === undefined && env.VIZ_OUT_DIR && !isInternalThread && !isLauncher(process.argv[1])) {
  g[ONCE] = true;
  await start(env.VIZ_OUT_DIR);
}
