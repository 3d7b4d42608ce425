import { openOutput } from '../io/output.js';
import type { Diagnostics } from '../model/diagnostics.js';
import { VizError } from '../model/errors.js';
import { hasCallRuns, withBatches, type TraceSource } from '../model/source.js';
import { outputFormat, wantsGzip, type FormatSpec, type WriteOptions } from '../formats/registry.js';
import { inTimeOrder } from './reorder.js';
import { startProgress } from '../cli/progress.js';
import { openTrace, openedTrace, type OpenedTrace } from './open.js';

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
  // Writers that nest slices stream events in time order (`inTimeOrder`); a conversion into
  // stdout cannot start over, so only one into a file reads its input again.
  const first = await openTrace(inputPath);
  return inTimeOrder(
    first.input,
    async (input, ordering) => {
      const opened = input === first.input ? first : openedTrace(input);
      return convertOnce(opened, spec, outputPath, options, ordering);
    },
    {
      canRetry: outputPath !== '-',
      hint: ' (writing to a file with -o, viz reads the input again and sorts it on disk)',
    },
  );
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
