/**
 * Writes an output without ever destroying data: bytes go to a temporary file
 * beside the target, renamed over it only when the writer commits. A failed or
 * interrupted run removes the temporary file and leaves any existing output as
 * it was. `-` writes to stdout.
 */
import { closeSync, createWriteStream, fsyncSync, openSync, renameSync, rmSync, type WriteStream } from 'node:fs';
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

export function openOutput(path: string, options: { gzip?: boolean } = {}): Output {
  const isStdout = path === '-';
  const name = isStdout ? '<stdout>' : path;
  const tmp = isStdout ? '' : join(dirname(path), `.${basename(path)}.viz-tmp-${process.pid}-${Date.now().toString(36)}`);
  let file: WriteStream | undefined;
  let sink: Writable;
  if (isStdout) {
    sink = process.stdout;
  } else {
    try {
      // Open synchronously so an unwritable directory is reported before any work is done.
      const fd = openSync(tmp, 'wx');
      file = createWriteStream(tmp, { fd, highWaterMark: 1 << 20 });
    } catch (err) {
      throw new VizError('output', `${path}: cannot write: ${describeFsError(err)}`);
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
      if (!isStdout) {
        if (failure) {
          output.abort();
          throw fail(failure);
        }
        try {
          const fd = openSync(tmp, 'r');
          fsyncSync(fd);
          closeSync(fd);
          renameSync(tmp, path);
        } catch (err) {
          output.abort();
          throw fail(err as Error);
        }
      } else if (failure && (failure as NodeJS.ErrnoException).code !== 'EPIPE') {
        throw fail(failure);
      }
      done = true;
      open.delete(output);
    },
    abort() {
      if (done) return;
      done = true;
      open.delete(output);
      if (!isStdout) {
        stream.destroy();
        file?.destroy();
        rmSync(tmp, { force: true });
      }
    },
  };
  open.add(output);
  return output;
}
