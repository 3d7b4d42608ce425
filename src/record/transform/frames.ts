export const FRAME_KINDS = [
  'function',
  'generator',
  'async',
  'asyncGenerator',
  'getter',
  'setter',
  'constructor',
  'static-block',
  'method',
  'arrow',
] as const;
export type FrameKind = (typeof FRAME_KINDS)[number];

export interface FrameInfo {
  /** `f`, `Class.method`, `Class.get prop`, `Class.#priv`, `obj.method`, `Class.<static>`, `<anonymous>`. */
  name: string;
  /** Original file (through the input map when there was one). */
  file: string;
  /** 1-based line of the function's start in the original file. */
  line: number;
  /** 1-based column (UTF-16 units) of the function's start in the original file. */
  column: number;
  kind: FrameKind;
}

/**
 * What instrumented code passes to `__viz_rt.reg(...)`, once per module:
 * `{ v: 1, files: string[], frames: [name, fileIndex, line, column, kindIndex][] }`
 * where `kindIndex` indexes FRAME_KINDS. `reg` returns the id of frame 0; frame K
 * is then entered with `e(base + K)` and exited with `x(base + K)`.
 */
export interface PackedFrames {
  v: 1;
  files: string[];
  frames: [string, number, number, number, number][];
}

export function packFrames(frames: FrameInfo[]): string {
  const files: string[] = [];
  const fileIx = new Map<string, number>();
  const out: PackedFrames['frames'] = [];
  for (const f of frames) {
    let fi = fileIx.get(f.file);
    if (fi === undefined) {
      fi = files.length;
      files.push(f.file);
      fileIx.set(f.file, fi);
    }
    out.push([f.name, fi, f.line, f.column, FRAME_KINDS.indexOf(f.kind)]);
  }
  const packed: PackedFrames = { v: 1, files, frames: out };
  // U+2028/2029 are valid in JS strings but keep the prologue on one line for every reader
  return JSON.stringify(packed)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** For the runtime: turns what `reg` received back into FrameInfo records. */
export function unpackFrames(packed: PackedFrames): FrameInfo[] {
  return packed.frames.map(([name, fi, line, column, ki]) => ({
    name,
    file: packed.files[fi] ?? '?',
    line,
    column,
    kind: FRAME_KINDS[ki] ?? 'function',
  }));
}
