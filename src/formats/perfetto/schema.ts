/**
 * The Perfetto schema subset (schemas/perfetto/*.proto) loaded into protobufjs. Used by the
 * reader and by the test validator; the writer encodes by hand (see `encoder.ts`).
 */
import { createRequire } from 'node:module';
import type * as Protobuf from 'protobufjs';
import { perfettoDescriptor } from './schema.generated.js';

export interface PerfettoSchema {
  root: Protobuf.Root;
  /** perfetto.protos.TracePacket */
  packet: Protobuf.Type;
}

let schema: PerfettoSchema | undefined;

/**
 * The schema, built on first use: loading protobufjs and building the types takes tens of ms,
 * which commands that never read a Perfetto trace should not pay at start-up.
 */
export function perfettoSchema(): PerfettoSchema {
  if (schema === undefined) {
    const protobuf = createRequire(import.meta.url)('protobufjs') as typeof Protobuf;
    const root = protobuf.Root.fromJSON(perfettoDescriptor as Protobuf.INamespace);
    schema = { root, packet: root.lookupType('perfetto.protos.TracePacket') };
  }
  return schema;
}

export * from './fields.js';

/** A protobufjs 64-bit value (Long, or number when it fits) as a BigInt. */
export function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'string') return BigInt(v);
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const l = v as { low: number; high: number; unsigned?: boolean };
    const big = (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
    return l.unsigned === false && l.high < 0 ? big - (1n << 64n) : big;
  }
  return 0n;
}

/** A protobufjs 64-bit value as a number (exact up to 2^53). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  return Number(toBigInt(v));
}
