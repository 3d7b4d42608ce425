import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convert } from '../../../src/ops/convert.js';
import type { Output } from '../../../src/io/output.js';
import { perfettoSchema } from '../../../src/formats/perfetto/schema.js';
import { encodeVarint } from '../../support/perfetto-validator.js';

const TracePacketType = perfettoSchema().packet;

export const tmp = mkdtempSync(join(tmpdir(), 'viz-perfetto-'));

/** An `Output` that keeps what is written in memory. */
export function memoryOutput(): { out: Output; bytes(): Buffer } {
  const chunks: Buffer[] = [];
  const out: Output = {
    name: 'mem',
    isStdout: false,
    write: async (c) => void chunks.push(Buffer.from(c)),
    commit: async () => {},
    abort: () => {},
  };
  return { out, bytes: () => Buffer.concat(chunks) };
}

/** Converts a file with the real `viz convert` path; returns the output path and diagnostics. */
export async function convertTo(
  input: string,
  to: string,
  name: string,
): Promise<{ path: string; result: Awaited<ReturnType<typeof convert>> }> {
  const path = join(tmp, name);
  const result = await convert(input, { to, output: path, progress: false });
  return { path, result };
}

/** Frames packet objects (protobufjs plain objects) into a Trace byte stream. */
export function frame(packets: Record<string, unknown>[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of packets) {
    const err = TracePacketType.verify(p);
    if (err) throw new Error(`bad test packet: ${err}`);
    const body = TracePacketType.encode(TracePacketType.fromObject(p)).finish();
    parts.push(Buffer.from([0x0a]), encodeVarint(body.length), Buffer.from(body));
  }
  return Buffer.concat(parts);
}

export function readBytes(path: string): Buffer {
  return readFileSync(path);
}
