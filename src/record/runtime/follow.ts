/**
 * What the preload does so that `viz record` follows a program into its workers and child
 * processes.
 *
 * - Workers: `worker_threads.Worker` gets the worker's name (`name` option, else its file) into
 *   the worker's environment (`VIZ_THREAD_NAME`), so the worker's ring is named after it. A worker
 *   given `env: SHARE_ENV` keeps the default name `worker <threadId>`.
 * - Child processes: those started with the default environment inherit `NODE_OPTIONS` (the
 *   preload) and the `VIZ_*` variables. Those started with a custom `env` lacking them get them
 *   back: `ChildProcess.prototype.spawn` (spawn, exec, execFile, fork) and the `*Sync` functions
 *   (their `env` option) are patched. Non-Node children ignore the variables.
 * - `--no-follow` (`VIZ_NO_FOLLOW=1`): the first traced process takes viz's `--import`s out of its
 *   own `NODE_OPTIONS`, so nothing it starts is traced.
 */
import * as nodeModule from 'node:module';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

// The CommonJS export objects (writable, unlike ES module namespaces); ES module importers see
// the patches through `syncBuiltinESMExports()`.
const requireHere = nodeModule.createRequire(import.meta.url);
const childProcess = requireHere('node:child_process') as typeof import('node:child_process');
const workerThreads = requireHere('node:worker_threads') as typeof import('node:worker_threads');

/** The variables `viz record` sets that a traced child needs. */
const VIZ_VARS = [
  'VIZ_OUT_DIR',
  'VIZ_BUFFER_SIZE',
  'VIZ_CACHE_DIR',
  'VIZ_ROOT',
  'VIZ_IMPORTS',
  'VIZ_INCLUDE',
  'VIZ_EXCLUDE',
  'VIZ_FILTER_BASE',
  'VIZ_FUNCTIONS',
  'VIZ_NO_FOLLOW',
  'VIZ_DEBUG',
];

/** viz's `--import`s, exactly as `viz record` appended them to NODE_OPTIONS. */
function vizImports(env: NodeJS.ProcessEnv): string {
  return env.VIZ_IMPORTS ?? '';
}

/**
 * `--no-follow`: no process this one starts loads the preload (the `VIZ_*` variables stay: the
 * workers of this process need them).
 */
export function stopFollowing(env: NodeJS.ProcessEnv): void {
  const imports = vizImports(env);
  if (imports && env.NODE_OPTIONS) {
    const rest = env.NODE_OPTIONS.replace(imports, '').trim();
    if (rest) env.NODE_OPTIONS = rest;
    else delete env.NODE_OPTIONS;
  }
}

/** The environment a child gets: `env` plus what tracing needs, when it lacks it. */
export function withTracing(
  env: Record<string, string | undefined>,
  from: NodeJS.ProcessEnv,
): Record<string, string | undefined> {
  const imports = vizImports(from);
  if (!from.VIZ_OUT_DIR || !imports || from.VIZ_NO_FOLLOW === '1') return env;
  const hasImports = (env.NODE_OPTIONS ?? '').includes(imports);
  if (env.VIZ_OUT_DIR && hasImports) return env;
  const out = { ...env };
  for (const v of VIZ_VARS) if (out[v] === undefined && from[v] !== undefined) out[v] = from[v];
  if (!hasImports) out.NODE_OPTIONS = out.NODE_OPTIONS ? `${out.NODE_OPTIONS} ${imports}` : imports;
  return out;
}

function withTracingPairs(pairs: string[], from: NodeJS.ProcessEnv): string[] {
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i > 0) env[p.slice(0, i)] = p.slice(i + 1);
  }
  const out = withTracing(env, from);
  if (out === env) return pairs;
  return Object.entries(out).map(([k, v]) => `${k}=${v ?? ''}`);
}

/** Re-injects the preload into children started with a custom environment. */
export function followChildProcesses(from: NodeJS.ProcessEnv): void {
  const proto = childProcess.ChildProcess.prototype as unknown as {
    spawn(this: unknown, options: { envPairs?: string[] }): unknown;
  };
  const spawn = proto.spawn;
  proto.spawn = function patchedSpawn(this: unknown, options) {
    if (options && Array.isArray(options.envPairs)) {
      options.envPairs = withTracingPairs(options.envPairs, from);
    }
    return spawn.call(this, options);
  };
  // The synchronous functions go straight to the native binding: fix their `env` option.
  const cp = childProcess as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ['spawnSync', 'execSync', 'execFileSync']) {
    const original = cp[name];
    if (typeof original !== 'function') continue;
    const patched = {
      [name](this: unknown, ...args: unknown[]): unknown {
        for (let i = args.length - 1; i >= 1; i--) {
          const o = args[i];
          if (o && typeof o === 'object' && !Array.isArray(o)) {
            const opts = o as { env?: Record<string, string | undefined> };
            if (opts.env && typeof opts.env === 'object') {
              const env = withTracing(opts.env, from);
              if (env !== opts.env) args[i] = { ...opts, env };
            }
            break;
          }
        }
        return original.apply(this, args);
      },
    }[name]!;
    try {
      cp[name] = patched;
    } catch {
      // a frozen module namespace: leave it
    }
  }
  nodeModule.syncBuiltinESMExports();
}

/** Name for a worker's ring: its `name` option, else its file's base name. */
export function workerName(file: unknown, options: { name?: unknown; eval?: unknown } | undefined): string {
  if (typeof options?.name === 'string' && options.name) return options.name;
  if (options?.eval) return 'worker (eval)';
  let f = '';
  if (file instanceof URL) f = file.protocol === 'file:' ? fileURLToPath(file) : file.href;
  else if (typeof file === 'string') f = file.startsWith('file:') ? fileURLToPath(file) : file;
  return basename(f) || 'worker';
}

const DUMP_CHANNEL = 'viz-record:worker-dumps';
/** How long `terminate()` waits for a JavaScript-fallback worker to dump its ring. */
const DUMP_WAIT_MS = 2000;

/**
 * In a worker recording with the JavaScript fallback: dump this thread's ring when the thread that
 * started it is about to `terminate()` it (nothing of the worker runs after that).
 */
export function dumpOnTerminate(dump: () => void): void {
  const channel = new workerThreads.BroadcastChannel(DUMP_CHANNEL);
  channel.unref();
  channel.onmessage = (ev) => {
    const data = (ev as { data?: unknown }).data as { request?: number } | undefined;
    if (data?.request !== workerThreads.threadId) return;
    try {
      dump();
    } finally {
      channel.postMessage({ dumped: workerThreads.threadId });
    }
  };
}

/** Asks worker `threadId` to dump (see `dumpOnTerminate`); resolves on its answer or a timeout. */
function requestDump(threadId: number): Promise<void> {
  return new Promise((resolve) => {
    const channel = new workerThreads.BroadcastChannel(DUMP_CHANNEL);
    const done = () => {
      clearTimeout(timer);
      channel.close();
      resolve();
    };
    const timer = setTimeout(done, DUMP_WAIT_MS);
    channel.onmessage = (ev) => {
      if (((ev as { data?: unknown }).data as { dumped?: number } | undefined)?.dumped === threadId) done();
    };
    channel.postMessage({ request: threadId });
  });
}

/**
 * Workers started from this thread tell their preload their name (`VIZ_THREAD_NAME`). With
 * `jsDumps` (the JavaScript fallback, where each worker writes its own ring), `terminate()` first
 * lets the worker dump.
 */
export function nameWorkers(jsDumps = false): void {
  const wt = workerThreads as unknown as { Worker: typeof workerThreads.Worker; SHARE_ENV: symbol };
  const Original = wt.Worker;
  class Worker extends Original {
    constructor(file: string | URL, options?: import('node:worker_threads').WorkerOptions) {
      const opts = options as (import('node:worker_threads').WorkerOptions & { name?: string }) | undefined;
      if (opts?.env !== wt.SHARE_ENV) {
        const base = (opts?.env as Record<string, string | undefined> | undefined) ?? process.env;
        options = {
          ...opts,
          env: { ...withTracing(base, process.env), VIZ_THREAD_NAME: workerName(file, opts) },
        };
      }
      super(file, options);
      if (jsDumps) this.once('exit', () => (this.exited = true));
    }

    private exited = false;

    override terminate(): Promise<number> {
      if (!jsDumps || this.exited || this.threadId < 0) return super.terminate();
      return requestDump(this.threadId).then(() => super.terminate());
    }
  }
  Object.defineProperty(Worker, 'name', { value: 'Worker' });
  try {
    (workerThreads as unknown as { Worker: unknown }).Worker = Worker;
    nodeModule.syncBuiltinESMExports();
  } catch {
    // leave workers unnamed
  }
}
