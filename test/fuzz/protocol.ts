/** Messages between the fuzz harness and its worker. */
export type Pipeline =
  'read' | 'info' | 'chrome' | 'perfetto' | 'speedscope' | 'html' | 'stats' | 'flamegraph';

export interface CaseRequest {
  id: number;
  pipeline: Pipeline;
  /** Input file (its name carries the extension the case is about). */
  path: string;
  /** Output path for converting pipelines (removed after the case). */
  out: string;
}

export interface CaseResult {
  id: number;
  /** ok: a result; error: a VizError; crash: anything else thrown. */
  outcome: 'ok' | 'error' | 'crash';
  events?: number;
  diagnostics?: string[];
  message?: string;
  stack?: string;
  ms: number;
}
