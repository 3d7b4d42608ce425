/**
 * A progress bar on stderr for long runs, only when stderr is a terminal:
 * pipelines and CI logs stay clean.
 */
import { createRequire } from 'node:module';

/** Loaded only when a bar is shown: most runs write to a pipe, and the module costs ~15 ms to load. */
const load = (): typeof import('cli-progress') =>
  createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');

export interface Progress {
  update(done: number): void;
  stop(): void;
}

const silent: Progress = { update() {}, stop() {} };

/** `total` in bytes; nothing is shown for inputs under a few MB or of unknown size. */
export function startProgress(label: string, total: number | undefined): Progress {
  if (!process.stderr.isTTY || !total || total < 8 << 20 || process.env.CI) return silent;
  const cliProgress = load();
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} MB | ETA {eta}s`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const mb = (n: number): number => Math.round(n / (1 << 20));
  bar.start(mb(total), 0);
  return {
    update: (done) => bar.update(mb(done)),
    stop: () => bar.stop(),
  };
}
