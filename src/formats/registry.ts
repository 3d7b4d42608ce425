/**
 * Every format viz reads or writes, in one table. Commands never name a
 * format: they ask the registry to detect an input and to find a writer by
 * `--to` name or output extension. A new format is one folder under
 * `src/formats/` plus one entry here. Writers are imported when used: start-up
 * time is every command's, and a command uses one writer at most.
 */
import type { Input } from '../io/input.js';
import type { Output } from '../io/output.js';
import { VizError } from '../model/errors.js';
import type { Ordering } from '../model/order.js';
import type { ReadOptions, TraceSource } from '../model/source.js';
import { readChrome, sniffChrome } from './chrome/reader.js';
import { readChromeGeneric } from './chrome/reader-generic.js';
import { readPerfetto, sniffPerfetto } from './perfetto/reader.js';
import { sniffFolded } from './folded/parse.js';
import { readFolded } from './folded/reader.js';
import { readRing, sniffRing } from './ring/reader.js';
import { sniffSpeedscope } from './speedscope/sniff.js';

export interface WriteOptions {
  /** Name of the input, for messages and metadata. */
  inputName: string;
  /** Formats that compress inside the file (Perfetto) do unless this is false. */
  compress?: boolean;
  /** How writers that nest slices put events in time order (`timeOrdered`'s options). */
  ordering?: Ordering;
}

export interface WriteResult {
  events: number;
}

export interface FormatSpec {
  /** Name used by `--to` and in `viz info`. */
  name: string;
  /** Other accepted `--to` spellings. */
  aliases?: string[];
  description: string;
  /** File name endings, longest first (`.json.gz` before `.json`). */
  extensions: string[];
  /**
   * Extensions too generic to trust alone (`.pb` is any protobuf): they name the format for
   * outputs, but an input is taken for this format only when the content sniff agrees.
   */
  weakExtensions?: string[];
  /** Output extensions that mean "gzip the output". */
  gzipExtensions?: string[];
  /** Whether the output is binary (refused on a terminal). */
  binary?: boolean;
  /** Content detection on the first (decompressed) bytes. */
  sniff?(head: Buffer): boolean;
  read?(input: Input, options?: ReadOptions): TraceSource;
  write?(source: TraceSource, out: Output, options: WriteOptions): Promise<WriteResult>;
}

const formats: FormatSpec[] = [
  // Before chrome: a speedscope document is also a JSON object, its sniff is the narrower one.
  {
    name: 'speedscope',
    description: "speedscope's own JSON format (evented profile per thread; opens fast in speedscope)",
    extensions: ['.speedscope.json'],
    sniff: sniffSpeedscope,
    write: async (source, out, options) =>
      (await import('./speedscope/writer.js')).writeSpeedscope(source, out, {
        name: options.inputName,
        ordering: options.ordering,
      }),
  },
  {
    name: 'html',
    aliases: ['report'],
    description: 'single-file HTML report: speedscope and the trace inlined, opens offline (write only)',
    extensions: ['.html', '.htm'],
    write: async (source, out, options) =>
      (await import('../view/report.js')).writeHtmlReport(source, out, {
        name: options.inputName,
        ordering: options.ordering,
      }),
  },
  {
    name: 'chrome',
    aliases: ['json', 'chrome-json'],
    description: 'Chrome Trace Event JSON (array or object form, optionally gzipped)',
    extensions: ['.json.gz', '.json'],
    gzipExtensions: ['.json.gz'],
    sniff: sniffChrome,
    // VIZ_CHROME_READER=generic selects the stream-json reference reader (troubleshooting).
    read: (input, options) =>
      process.env.VIZ_CHROME_READER === 'generic' ? readChromeGeneric(input) : readChrome(input, options),
    write: async (source, out) => (await import('./chrome/writer.js')).writeChrome(source, out),
  },
  {
    name: 'perfetto',
    aliases: ['pftrace', 'proto'],
    description: 'Perfetto protobuf trace (TracePacket/TrackEvent; optionally gzipped)',
    extensions: ['.perfetto-trace', '.pftrace', '.pb'],
    weakExtensions: ['.pb'],
    binary: true,
    sniff: sniffPerfetto,
    read: readPerfetto,
    write: async (source, out, options) =>
      (await import('./perfetto/writer.js')).writePerfetto(source, out, {
        compress: options.compress,
        ordering: options.ordering,
      }),
  },
  {
    name: 'ring',
    description: 'viz ring dump (what `viz record` writes; read only)',
    extensions: ['.vizdump'],
    binary: true,
    sniff: sniffRing,
    read: readRing,
  },
  {
    name: 'folded',
    aliases: ['collapsed'],
    description:
      'Folded stacks, one "a;b;c count" line per stack (flamegraph.pl, inferno); read as nested slices',
    extensions: ['.folded', '.collapsed'],
    sniff: sniffFolded,
    read: readFolded,
  },
];

/** Adds a format (used by format modules that live outside this file's imports, e.g. optional ones). */
export function registerFormat(spec: FormatSpec): void {
  const existing = formats.findIndex((f) => f.name === spec.name);
  if (existing >= 0) formats[existing] = spec;
  else formats.push(spec);
}

export function allFormats(): readonly FormatSpec[] {
  return formats;
}

export function formatByName(name: string): FormatSpec | undefined {
  const n = name.toLowerCase();
  return formats.find((f) => f.name === n || f.aliases?.includes(n));
}

/** The format a file name implies, by its longest matching extension. */
export function formatByExtension(path: string, options: { weak?: boolean } = {}): FormatSpec | undefined {
  const lower = path.toLowerCase();
  let best: FormatSpec | undefined;
  let bestLen = 0;
  for (const f of formats) {
    for (const ext of f.extensions) {
      if (options.weak === false && f.weakExtensions?.includes(ext)) continue;
      if (lower.endsWith(ext) && ext.length > bestLen) {
        best = f;
        bestLen = ext.length;
      }
    }
  }
  return best;
}

/** Detects an input's format from its name and content; the two must agree. */
export function detectFormat(input: Input): FormatSpec {
  const byContent = formats.find((f) => f.sniff?.(input.head));
  const byName =
    input.name === '<stdin>'
      ? undefined
      : formatByExtension(input.name.replace(/\.gz$/i, ''), { weak: false });
  if (byName && byContent && byName !== byContent) {
    throw new VizError(
      'badInput',
      `${input.name}: the file name says ${byName.name} but the content looks like ${byContent.name}`,
      [`rename the file to end in ${byContent.extensions.at(-1)}`],
    );
  }
  const spec = byContent ?? byName;
  if (spec && !spec.read) {
    throw new VizError('badInput', `${input.name}: ${spec.name} files can be written by viz but not read`, [
      ...(spec.name === 'speedscope' ? [`viz view ${input.name} opens it in speedscope as it is`] : []),
      `supported input formats: ${formats
        .filter((f) => f.read)
        .map((f) => f.name)
        .join(', ')}`,
    ]);
  }
  if (!spec?.read) {
    const what = input.head.length === 0 ? 'empty input' : 'unknown format';
    throw new VizError('badInput', `${input.name}: ${what}: not a trace viz can read`, [
      `supported formats: ${formats
        .filter((f) => f.read)
        .map((f) => f.name)
        .join(', ')}`,
    ]);
  }
  if (!byContent) {
    // The name matches but the content does not look like that format: let the reader say where it fails.
  }
  return spec;
}

/** The writer for `--to` (if given) or the output's extension; they must agree. */
export function outputFormat(to: string | undefined, outputPath: string | undefined): FormatSpec {
  const byName = to === undefined ? undefined : formatByName(to);
  if (to !== undefined && !byName?.write) {
    throw new VizError('usage', `unknown output format "${to}"`, [
      `supported: ${writableNames().join(', ')}`,
    ]);
  }
  const byExt = outputPath && outputPath !== '-' ? formatByExtension(outputPath) : undefined;
  if (byName && byExt && byName !== byExt && byExt.write) {
    throw new VizError('usage', `--to ${to} disagrees with the output name ${outputPath} (${byExt.name})`);
  }
  const spec = byName ?? byExt;
  if (!spec?.write) {
    throw new VizError('usage', 'no output format: give --to or an output name with a known extension', [
      `formats: ${writableNames().join(', ')}`,
    ]);
  }
  return spec;
}

export function writableNames(): string[] {
  return formats.filter((f) => f.write).map((f) => f.name);
}

export function wantsGzip(spec: FormatSpec, outputPath: string): boolean {
  const lower = outputPath.toLowerCase();
  return (spec.gzipExtensions ?? []).some((ext) => lower.endsWith(ext));
}
