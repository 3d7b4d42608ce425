import { openInput } from '../io/input.js';
import type { TraceSource } from '../model/source.js';
import { detectFormat, type FormatSpec } from '../formats/registry.js';
import type { Input } from '../io/input.js';

export interface OpenedTrace {
  input: Input;
  format: FormatSpec;
  source: TraceSource;
}

/** Opens a path (or `-`), detects its format and returns its reader. */
export async function openTrace(path: string): Promise<OpenedTrace> {
  return openedTrace(await openInput(path));
}

/** Detects an open input's format and returns its reader. */
export function openedTrace(input: Input): OpenedTrace {
  const format = detectFormat(input);
  return { input, format, source: format.read!(input) };
}
