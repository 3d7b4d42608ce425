/**
 * Writes an output without ever destroying data: bytes go to a temporary file
 * beside the target, renamed over it only when the writer commits. A failed or
 * interrupted run removes the temporary file and leaves any existing output as
 * it was. `-` writes to stdout.
 */
import {
  closeSync,
  createWriteStream,
  fsyncSync,
  lstatSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  type Stats,
  type WriteStream,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { VizError } from '../model/errors.js';
import { describeFsError } from './input.js';

export interface Output {
  /** The path as given, or `<stdout>`. */
  readonly name: string;
  readonly isStdout: boolean;
  /** Queue bytes; resolves when the stream can take more (backpressure). */
  write(chunk: string | Uint8Array): Promise<void>;
  /** Finish writing and move the file into place. */
  commit(): Promise<void>;
  /** Drop everything written; the target is left untouched. Safe to call twice. */
  abort(): void;
}

const open = new Set<Output>();

/** Aborts every output still open (used on SIGINT / fatal errors). */
export function abortAllOutputs(): void {
  for (const o of [...open]) o.abort();
}

/**
 * While an output is open, SIGTERM and SIGHUP remove it and exit (128 + the signal's number), as
 * the command base class does for SIGINT. Only while one is open: other commands (`viz record`
 * forwards these signals to its child, `viz view` stops cleanly on them) keep their own meaning.
 */
const TERMINATING: [NodeJS.Signals, number][] = [
  ['SIGTERM', 143],
  ['SIGHUP', 129],
];
const onTerminate = (signal: NodeJS.Signals): void => {
  abortAllOutputs();
  process.stderr.write('viz: interrupted; no output written\n');
  process.exit(TERMINATING.find(([s]) => s === signal)?.[1] ?? 1);
};
function track(output: Output): void {
  if (open.size === 0) for (const [signal] of TERMINATING) process.on(signal, onTerminate);
  open.add(output);
}
function untrack(output: Output): void {
  if (!open.delete(output)) return;
  if (open.size === 0) for (const [signal] of TERMINATING) process.off(signal, onTerminate);
}

export function openOutput(path: string, options: { gzip?: boolean } = {}): Output {
  const isStdout = path === '-';
  const name = isStdout ? '<stdout>' : path;
  let file: WriteStream | undefined;
  let sink: Writable;
  /** Written in place, without a temporary file (stdout, devices, FIFOs). */
  let direct = isStdout;
  let tmp = '';
  /** The file the temporary file replaces: the path, or the file a symbolic link points to. */
  let target = path;
  /** A file exists at `target` and the output will replace it. */
  let replaces = false;
  if (isStdout) {
    sink = process.stdout;
  } else {
    let existing: Stats | undefined;
    try {
      existing = statSync(path);
    } catch {
      // Absent (the usual case) or unreachable: opening the temporary file says which.
    }
    if (existing?.isDirectory()) throw new VizError('output', `${path}: cannot write: is a directory`);
    if (existing && !existing.isFile()) {
      // /dev/null, /dev/stdout to a pipe, a FIFO: nothing to clobber, and renaming a file over
      // them would replace the device or FIFO itself.
      direct = true;
    } else if (existing && lstatSync(path).isSymbolicLink()) {
      // Replace the file the link points to, not the link.
      target = realpathSync(path);
    }
    replaces = existing !== undefined && !direct;
    if (direct) {
      file = createWriteStream(path, { flags: 'w', highWaterMark: 4 << 20 });
    } else {
      tmp = join(dirname(target), `.${basename(target)}.viz-tmp-${process.pid}-${Date.now().toString(36)}`);
      try {
        // Open synchronously so an unwritable directory is reported before any work is done.
        const fd = openSync(tmp, 'wx');
        file = createWriteStream(tmp, { fd, highWaterMark: 4 << 20 });
      } catch (err) {
        const cause =
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? `no such directory: ${dirname(path)}`
            : describeFsError(err);
        throw new VizError('output', `${path}: cannot write: ${cause}`);
      }
    }
    sink = file;
  }
  let failure: Error | undefined;
  const onError = (err: Error): void => {
    failure ??= err;
  };
  let stream: Writable = sink;
  if (options.gzip) {
    const gz = createGzip({ level: 6 });
    gz.pipe(sink);
    gz.on('error', onError);
    stream = gz;
  }
  sink.on('error', onError);
  let done = false;

  const fail = (err: Error): VizError =>
    new VizError('output', `${name}: cannot write: ${describeFsError(err)}`);

  const output: Output = {
    name,
    isStdout,
    async write(chunk) {
      if (failure) throw fail(failure);
      if (!stream.write(chunk)) {
        await new Promise<void>((resolve) => {
          const settle = (): void => {
            stream.off('drain', settle);
            sink.off('error', settle);
            resolve();
          };
          stream.once('drain', settle);
          sink.once('error', settle);
        });
        if (failure) throw fail(failure);
      }
    },
    async commit() {
      if (done) return;
      await new Promise<void>((resolve) => {
        if (stream !== sink) sink.once('finish', resolve);
        else stream.once('finish', resolve);
        sink.once('error', () => resolve());
        stream.end();
      });
      if (!direct) {
        if (failure) {
          output.abort();
          throw fail(failure);
        }
        try {
          // Replacing a file: its new content reaches the disk before the rename, so a crash
          // cannot leave an empty file where the old one was. A new file has nothing to lose,
          // and the flush costs more than the conversion on some disks.
          if (replaces) {
            const fd = openSync(tmp, 'r');
            fsyncSync(fd);
            closeSync(fd);
          }
          renameSync(tmp, target);
        } catch (err) {
          output.abort();
          throw fail(err as Error);
        }
      } else if (failure && (failure as NodeJS.ErrnoException).code !== 'EPIPE') {
        throw fail(failure);
      }
      done = true;
      untrack(output);
    },
    abort() {
      if (done) return;
      done = true;
      untrack(output);
      if (!isStdout) {
        stream.destroy();
        file?.destroy();
        if (tmp) rmSync(tmp, { force: true });
      }
    },
  };
  track(output);
  return output;
}
