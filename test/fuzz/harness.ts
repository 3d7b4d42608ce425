/**
 * Runs pipelines on hostile inputs in a worker thread with a heap limit, a small stack (like
 * the CLI's main thread) and a time limit, and judges how each run ended: a result, or a
 * one-line `VizError` naming the input. Anything else (an uncaught TypeError or RangeError, a
 * stack overflow, a hang, running out of heap) is a failure with the input saved for replay.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CaseRequest, CaseResult, Pipeline } from './protocol.js';

export type Verdict =
  | (CaseResult & { outcome: 'ok' | 'error' | 'crash' })
  | { outcome: 'hang' | 'oom' | 'memory'; message: string; ms: number };

export interface FuzzLimits {
  /** Per case, wall clock (this machine is busy: generous). */
  timeoutMs: number;
  /** Worker old-generation heap. */
  heapMb: number;
  /** Extra environment of the worker (e.g. VIZ_MAX_VALUE_MB). */
  env?: Record<string, string>;
  /**
   * Growth of the process's peak RSS allowed in one case (buffers live outside the worker's heap
   * limit). The peak only grows, so a jump during a case is that case's doing.
   */
  rssGrowthMb?: number;
}

export const DEFAULT_LIMITS: FuzzLimits = { timeoutMs: 20_000, heapMb: 256, rssGrowthMb: 384 };

const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

/** Where failing inputs are saved (kept out of the repo's tracked files). */
export const FAILURES_DIR = join(tmpdir(), 'viz-fuzz-failures');

export class FuzzRunner {
  readonly dir = mkdtempSync(join(tmpdir(), 'viz-fuzz-'));
  private worker: Worker | undefined;
  private nextId = 1;
  /** Every case run, by outcome, for the report. */
  readonly tally: Record<string, number> = {};
  /** Errors without a `byte N` offset, by message shape (first words), for the report. */
  readonly errorsWithoutOffset = new Map<string, number>();
  maxMs = 0;

  constructor(private readonly limits: FuzzLimits = DEFAULT_LIMITS) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    // The worker loads TypeScript through tsx's loader, registered in the worker itself.
    const entry = new URL('./worker.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
    this.worker = new Worker(boot, {
      eval: true,
      resourceLimits: {
        maxOldGenerationSizeMb: this.limits.heapMb,
        maxYoungGenerationSizeMb: 32,
        stackSizeMb: 1,
      },
      stdout: false,
      stderr: false,
      env: { ...process.env, ...this.limits.env },
    });
    this.worker.unref();
    return this.worker;
  }

  /** Runs `pipeline` on `bytes` saved under `fileName` (its extension matters). */
  async run(pipeline: Pipeline, fileName: string, bytes: Uint8Array): Promise<Verdict> {
    const path = join(this.dir, fileName);
    writeFileSync(path, bytes);
    try {
      return await this.runPath(pipeline, path);
    } finally {
      rmSync(path, { force: true });
    }
  }

  async runPath(pipeline: Pipeline, path: string): Promise<Verdict> {
    const worker = this.start();
    const id = this.nextId++;
    const req: CaseRequest = { id, pipeline, path, out: join(this.dir, `out-${id}`) };
    const t0 = performance.now();
    const peakBefore = peakRssMb();
    let verdict = await new Promise<Verdict>((resolve) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (res: CaseResult): void => {
        if (res.id !== id) return;
        cleanup();
        resolve(res as Verdict);
      };
      const onError = (err: Error): void => {
        cleanup();
        this.worker = undefined;
        const oom = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
        resolve({
          outcome: oom ? 'oom' : 'crash',
          message: err.message,
          ms: performance.now() - t0,
        } as Verdict);
      };
      const onExit = (code: number): void => {
        cleanup();
        this.worker = undefined;
        resolve({
          outcome: 'crash',
          message: `worker exited with code ${code}`,
          ms: performance.now() - t0,
        } as Verdict);
      };
      const timer = setTimeout(() => {
        cleanup();
        this.worker = undefined;
        void worker.terminate();
        resolve({
          outcome: 'hang',
          message: `no result after ${this.limits.timeoutMs} ms`,
          ms: performance.now() - t0,
        });
      }, this.limits.timeoutMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(req);
    });
    const grew = peakRssMb() - peakBefore;
    if (
      this.limits.rssGrowthMb !== undefined &&
      grew > this.limits.rssGrowthMb &&
      verdict.outcome !== 'hang'
    ) {
      verdict = {
        outcome: 'memory',
        message: `peak RSS grew by ${Math.round(grew)} MB in one case (${verdict.outcome})`,
        ms: verdict.ms,
      };
    }
    this.tally[verdict.outcome] = (this.tally[verdict.outcome] ?? 0) + 1;
    this.tally.total = (this.tally.total ?? 0) + 1;
    if (verdict.ms > this.maxMs) this.maxMs = verdict.ms;
    if (verdict.outcome === 'error' && !/byte \d+/.test(verdict.message ?? '')) {
      const shape = (verdict.message ?? '').replace(path, '<input>').replace(/\d+/g, 'N').slice(0, 80);
      this.errorsWithoutOffset.set(shape, (this.errorsWithoutOffset.get(shape) ?? 0) + 1);
    }
    return verdict;
  }

  /** Why this verdict is unacceptable for an input at `path`, or undefined when it is fine. */
  static problem(v: Verdict, path: string): string | undefined {
    if (v.outcome === 'ok') return undefined;
    if (v.outcome === 'error') {
      const msg = v.message ?? '';
      if (msg.includes('\n')) return `error message spans lines: ${JSON.stringify(msg)}`;
      if (!msg.includes(path)) return `error message does not name the input: ${msg}`;
      if (msg.length > 2000) return `error message is ${msg.length} characters long`;
      return undefined;
    }
    const detail = 'stack' in v && v.stack ? v.stack.split('\n').slice(0, 6).join(' | ') : v.message;
    return `${v.outcome}: ${detail}`;
  }

  /**
   * Runs a case and throws (with the input saved under FAILURES_DIR) when it ends badly.
   * Returns the verdict otherwise.
   */
  async check(pipeline: Pipeline, fileName: string, bytes: Uint8Array, label: string): Promise<Verdict> {
    const v = await this.run(pipeline, fileName, bytes);
    const problem = FuzzRunner.problem(v, join(this.dir, fileName));
    if (problem) {
      const saved = saveFailure(pipeline, `${label.replace(/[^\w.-]+/g, '_')}-${fileName}`, bytes);
      throw new Error(`${pipeline} on ${fileName} (${label}): ${problem}; input saved as ${saved}`);
    }
    return v;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Saves a failing input under FAILURES_DIR for replay; returns its path. */
export function saveFailure(pipeline: string, fileName: string, bytes: Uint8Array): string {
  mkdirSync(FAILURES_DIR, { recursive: true });
  const saved = join(FAILURES_DIR, `${pipeline}-${Date.now().toString(36)}-${fileName}`);
  writeFileSync(saved, bytes);
  return saved;
}
