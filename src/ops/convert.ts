import { openOutput } from '../io/output.js';
import type { Diagnostics } from '../model/diagnostics.js';
import { VizError } from '../model/errors.js';
import { hasCallRuns, withBatches, type TraceSource } from '../model/source.js';
import { outputFormat, wantsGzip, type FormatSpec, type WriteOptions } from '../formats/registry.js';
import { isLateEventError } from '../model/order.js';
import { startProgress } from '../cli/progress.js';
import { openTrace, type OpenedTrace } from './open.js';

export interface ConvertOptions {
  to?: string;
  /** Output path; `-` (the default) is stdout. */
  output?: string;
  progress?: boolean;
  /** False: formats that compress inside the file (Perfetto) write plain records. */
  compress?: boolean;
}

export interface ConvertResult {
  inputFormat: string;
  outputFormat: string;
  output: string;
  events: number;
  diagnostics: Diagnostics;
}

export async function convert(inputPath: string, options: ConvertOptions): Promise<ConvertResult> {
  const outputPath = options.output ?? '-';
  const spec = outputFormat(options.to, options.output);
  if (outputPath === '-' && spec.binary && process.stdout.isTTY) {
    throw new VizError('usage', `refusing to write binary ${spec.name} output to a terminal`, [
      'use -o FILE or a pipe',
    ]);
  }
  // Writers that nest slices stream events through small reorder windows. An event that arrives
  // behind its window (VizTracer writes a program's root after everything inside it) stops a
  // conversion from a file into a file, which then starts over sorting by time on disk.
  const first = await openTrace(inputPath);
  const restartable = first.input.reopen !== undefined && outputPath !== '-';
  try {
    const ordering: WriteOptions['ordering'] = restartable
      ? { lateEvents: 'throw' }
      : {
          lateHint:
            first.input.reopen === undefined
              ? ' (given a file rather than a pipe, viz reads it again and sorts it on disk)'
              : ' (writing to a file with -o, viz reads the input again and sorts it on disk)',
        };
    return await convertOnce(first, spec, outputPath, options, ordering);
  } catch (err) {
    if (!isLateEventError(err)) throw err;
    first.input.close();
    const again = await convertOnce(await openTrace(inputPath), spec, outputPath, options, {
      external: true,
    });
    again.diagnostics.add(
      'reordered_on_disk',
      'info',
      `${first.input.name}: ${err.message}; the file was read again and sorted by time on disk`,
    );
    return again;
  }
}

async function convertOnce(
  opened: OpenedTrace,
  spec: FormatSpec,
  outputPath: string,
  options: ConvertOptions,
  ordering: WriteOptions['ordering'],
): Promise<ConvertResult> {
  const { input, format, source } = opened;
  const progress = options.progress === false ? undefined : startProgress('converting', input.size);
  const tracked = progress ? withProgress(source, () => progress.update(source.bytesRead)) : source;
  const out = openOutput(outputPath, { gzip: wantsGzip(spec, outputPath) });
  try {
    const result = await spec.write!(tracked, out, {
      inputName: input.name,
      compress: options.compress,
      ordering,
    });
    await out.commit();
    return {
      inputFormat: format.name,
      outputFormat: spec.name,
      output: out.name,
      events: result.events,
      diagnostics: source.diagnostics,
    };
  } catch (err) {
    out.abort();
    throw err;
  } finally {
    progress?.stop();
  }
}

/** Wraps a source so that each batch (or run of calls) reports progress. */
export function withProgress(source: TraceSource, tick: () => void): TraceSource {
  const wrapped = withBatches(source, () => ticking(source.batches(), tick));
  if (!hasCallRuns(source)) return wrapped;
  return Object.assign(wrapped, { batchesOrRuns: () => ticking(source.batchesOrRuns(), tick) });
}

async function* ticking<T>(items: AsyncIterable<T>, tick: () => void): AsyncGenerator<T, void, undefined> {
  for await (const item of items) {
    tick();
    yield item;
  }
}
