/**
 * Opens an input (a path, or `-` for stdin) as a stream of byte chunks,
 * transparently gunzipping when the first bytes are the gzip magic.
 * The first bytes of the decompressed content are available up front for
 * format sniffing without consuming the stream.
 */
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { VizError } from '../model/errors.js';

export interface Input {
  /** The path as the user gave it, or `<stdin>`; used in every message. */
  readonly name: string;
  /** True when the bytes were gzip-compressed. */
  readonly gzip: boolean;
  /** Size on disk in bytes, when known (regular files). */
  readonly size: number | undefined;
  /** First bytes of the (decompressed) content, at least `HEAD_BYTES` unless the input is shorter. */
  readonly head: Buffer;
  /** Raw bytes read from the file so far (compressed bytes for gzip), for progress. */
  bytesRead(): number;
  /** The decompressed content, starting with `head`. Iterate once. */
  chunks(): AsyncIterable<Buffer>;
  /** Stops reading and releases the file (reading may have stopped anywhere). */
  close(): void;
  /** The same file opened again from its start; only for regular files (not stdin or pipes). */
  reopen?(): Promise<Input>;
}

export const HEAD_BYTES = 4096;
const CHUNK = 1 << 20;

export async function openInput(path: string): Promise<Input> {
  const isStdin = path === '-';
  const name = isStdin ? '<stdin>' : path;
  let size: number | undefined;
  if (!isStdin) {
    try {
      const st = statSync(path);
      if (st.isDirectory()) throw new VizError('badInput', `${path}: is a directory, not a trace file`);
      size = st.isFile() ? st.size : undefined;
    } catch (err) {
      if (err instanceof VizError) throw err;
      throw new VizError('badInput', `${path}: ${describeFsError(err)}`);
    }
  }
  const raw: Readable = isStdin ? process.stdin : createReadStream(path, { highWaterMark: CHUNK });
  let rawBytes = 0;
  raw.on('data', (c: Buffer) => {
    rawBytes += c.length;
  });
  const rawIter = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;

  // Peek enough raw bytes to see the gzip magic.
  const peeked: Buffer[] = [];
  let peekedLen = 0;
  let rawDone = false;
  try {
    while (peekedLen < 2) {
      const r = await rawIter.next();
      if (r.done) {
        rawDone = true;
        break;
      }
      peeked.push(r.value);
      peekedLen += r.value.length;
    }
  } catch (err) {
    throw new VizError('badInput', `${name}: ${describeFsError(err)}`);
  }
  const first = Buffer.concat(peeked);
  const gzip = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;

  async function* rawChunks(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    if (rawDone) return;
    for (;;) {
      const r = await rawIter.next();
      if (r.done) return;
      yield r.value;
    }
  }

  let content: AsyncIterator<Buffer>;
  if (gzip) {
    const gunzip = createGunzip({ chunkSize: CHUNK });
    const source = rawChunks();
    // Feed the decompressor by hand so a corrupt or truncated gzip stream becomes an error we can name.
    void (async () => {
      try {
        for await (const c of source) {
          if (!gunzip.write(c)) await new Promise((resolve) => gunzip.once('drain', resolve));
        }
        gunzip.end();
      } catch (err) {
        gunzip.destroy(err as Error);
      }
    })();
    content = gunzipChunks(gunzip, name, () => rawBytes);
  } else {
    content = rawChunks();
  }

  // Collect the head for sniffing.
  const headParts: Buffer[] = [];
  let headLen = 0;
  let contentDone = false;
  // A gzip stream cut within the head: the readers see the head, then the truncation marker.
  let headEnd: TruncatedGzip | undefined;
  while (headLen < HEAD_BYTES) {
    let r: IteratorResult<Buffer>;
    try {
      r = await content.next();
    } catch (err) {
      if (!(err instanceof TruncatedGzip)) throw err;
      headEnd = err;
      contentDone = true;
      break;
    }
    if (r.done) {
      contentDone = true;
      break;
    }
    headParts.push(r.value);
    headLen += r.value.length;
  }
  const headAll = Buffer.concat(headParts);
  let consumed = false;

  return {
    name,
    gzip,
    size,
    head: headAll,
    bytesRead: () => rawBytes,
    close: () => {
      if (!isStdin) raw.destroy();
    },
    reopen: size === undefined ? undefined : () => openInput(path),
    chunks(): AsyncIterable<Buffer> {
      if (consumed) throw new Error('input already consumed');
      consumed = true;
      return (async function* () {
        if (headAll.length > 0) yield headAll;
        if (headEnd) throw headEnd;
        if (contentDone) return;
        for (;;) {
          const r = await content.next();
          if (r.done) return;
          yield r.value;
        }
      })();
    },
  };
}

/**
 * Truncated gzip streams end the content with a `TruncatedGzip` marker error the readers turn into
 * a warning. It is a `VizError`, so a reader that does not recover from it still fails in one line.
 */
export class TruncatedGzip extends VizError {
  constructor(message: string) {
    super('badInput', message);
  }
}

async function* gunzipChunks(
  gunzip: ReturnType<typeof createGunzip>,
  name: string,
  fed: () => number,
): AsyncGenerator<Buffer> {
  try {
    for await (const c of gunzip) yield c as Buffer;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR') throw new TruncatedGzip(`${name}: gzip stream ends early`);
    // zlib does not say where in the stream it failed: give the bound we know.
    throw new VizError(
      'badInput',
      `${name}: corrupt gzip data (${(err as Error).message}) within the first ${fed()} compressed bytes`,
    );
  }
}

export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a trace file';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EFBIG':
      return 'file too large (the file size limit, ulimit -f, was reached)';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'a parent of the path is not a directory';
    case 'EIO':
      return 'input/output error';
    default:
      return e.message ?? String(err);
  }
}

/**
 * Pulls an input's content chunk by chunk. A gzip stream that ends early ends
 * the content like a normal end, with `truncatedGzip` set, so readers keep
 * every complete event and report the truncation once.
 */
export class ChunkPuller {
  truncatedGzip = false;
  private readonly iterator: AsyncIterator<Buffer>;

  constructor(input: Input) {
    this.iterator = input.chunks()[Symbol.asyncIterator]();
  }

  /** The next chunk, or undefined at the end of the content. */
  async next(): Promise<Buffer | undefined> {
    try {
      const r = await this.iterator.next();
      return r.done ? undefined : r.value;
    } catch (err) {
      if (!(err instanceof TruncatedGzip)) throw err;
      this.truncatedGzip = true;
      return undefined;
    }
  }

  /** Stops reading early (releases the file). */
  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}
