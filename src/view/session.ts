/**
 * `viz view`: converts any trace viz reads to speedscope's format (in a
 * temporary file, while the server already answers, so the browser loads the
 * viewer during the conversion), serves it with speedscope's offline build on
 * loopback, and optionally opens the browser. `--export` writes the
 * single-file report instead.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { openOutput } from '../io/output.js';
import { withBatches, type TraceSource } from '../model/source.js';
import { writeSpeedscope } from '../formats/speedscope/writer.js';
import { openInput, type Input } from '../io/input.js';
import { detectFormat } from '../formats/registry.js';
import { sniffSpeedscope } from '../formats/speedscope/writer.js';
import { Diagnostics } from '../model/diagnostics.js';
import { writeHtmlReport, writeReportFromProfile } from './report.js';
import { startProgress } from '../cli/progress.js';
import { withProgress } from '../ops/convert.js';
import { openedTrace } from '../ops/open.js';
import { inTimeOrder } from '../ops/reorder.js';
import type { Ordering } from '../model/order.js';
import { speedscopeView, type ViewMode } from './modes.js';
import { isLoopback, startViewServer, type ViewServer } from './server.js';

export interface ViewOptions {
  /** Which speedscope view to open; `auto` (default) picks by trace size. */
  view?: ViewMode;
  host?: string;
  port?: number;
  /** Open the default browser. */
  open?: boolean;
  /** Stop once the page has loaded the trace. */
  once?: boolean;
  /** Write a single-file HTML report here instead of serving. */
  export?: string;
  /** Where progress lines go (stderr by default). */
  log?: (line: string) => void;
  /** Where the URL goes (stdout by default). */
  printUrl?: (url: string) => void;
  /** Resolves when the user asks to stop (Ctrl-C); the default listens for SIGINT and SIGTERM. */
  stopSignal?: Promise<void>;
  /** Called once the server listens (tests). */
  onListening?: (server: ViewServer) => void;
}

export interface ViewResult {
  inputFormat: string;
  events: number;
  /** Milliseconds from the start to the end of the conversion. */
  convertMs: number;
  diagnostics: Diagnostics;
  url?: string;
  exported?: string;
  /** Stopped by Ctrl-C (or `stopSignal`) before the end. */
  stopped?: boolean;
}

/** The hint printed by `viz view` and written in the README: Perfetto shows all threads on one timeline. */
export function perfettoHint(input: string): string {
  const base = input === '-' ? 'trace' : basename(input).replace(/(\.json)?(\.gz)?$/i, '') || 'trace';
  return `for one timeline of all processes and threads at once, open it in Perfetto's UI: viz convert ${input} --to perfetto -o ${base}.perfetto-trace`;
}

export async function view(input: string, options: ViewOptions = {}): Promise<ViewResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`viz: ${line}\n`));
  const start = performance.now();
  if (options.export !== undefined) {
    const opened = await openInput(input);
    const out = openOutput(options.export);
    try {
      if (sniffSpeedscope(opened.head)) {
        // Already speedscope's format: inline it as it is.
        const dir = mkdtempSync(join(tmpdir(), 'viz-view-'));
        try {
          const profilePath = join(dir, 'trace.speedscope.json');
          const copy = openOutput(profilePath);
          for await (const chunk of opened.chunks()) await copy.write(chunk);
          await copy.commit();
          await writeReportFromProfile(profilePath, out, { name: opened.name, view: options.view, calls: 0 });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        await out.commit();
        const diagnostics = new Diagnostics();
        return {
          inputFormat: 'speedscope',
          events: 0,
          convertMs: performance.now() - start,
          diagnostics,
          exported: out.name,
        };
      }
      // A file whose slices outrun the reorder windows is converted again, sorted on disk.
      const r = await inTimeOrder(opened, async (input, ordering) => {
        const { format, source } = openedTrace(input);
        const progress = startProgress('converting', input.size);
        const written = await writeHtmlReport(
          withProgress(source, () => progress.update(source.bytesRead)),
          out,
          { name: input.name, view: options.view, ordering },
        ).finally(() => progress.stop());
        return { format, events: written.events, diagnostics: source.diagnostics };
      });
      await out.commit();
      return {
        inputFormat: r.format.name,
        events: r.events,
        convertMs: performance.now() - start,
        diagnostics: r.diagnostics,
        exported: out.name,
      };
    } catch (err) {
      out.abort();
      throw err;
    }
  }
  // Detect and open before listening, so a bad input fails at once.
  const opened = await openInput(input);
  if (sniffSpeedscope(opened.head)) return serveAsIs(opened, options, log, start);
  const format = detectFormat(opened);
  // The diagnostics of the last conversion (a file whose slices outrun the reorder windows is
  // converted again, sorted on disk).
  let diagnostics = new Diagnostics();
  const dir = mkdtempSync(join(tmpdir(), 'viz-view-'));
  const profilePath = join(dir, 'trace.speedscope.json');
  let events = 0;
  let convertMs = 0;
  // Listen for Ctrl-C from the start: a stop during the conversion ends it at the next batch.
  const stop = options.stopSignal ?? untilSignal();
  let stopped = false;
  void stop.then(() => (stopped = true));
  const convertOnce = async (input: Input, ordering: Ordering): Promise<{ diagnostics: Diagnostics }> => {
    const source = input === opened ? format.read!(input) : openedTrace(input).source;
    diagnostics = source.diagnostics;
    const out = openOutput(profilePath);
    const progress = startProgress('converting', input.size);
    try {
      const r = await writeSpeedscope(
        withProgress(
          stoppable(source, () => stopped),
          () => progress.update(source.bytesRead),
        ),
        out,
        { name: input.name, ordering },
      );
      await out.commit();
      events = r.events;
      convertMs = performance.now() - start;
      return { diagnostics: source.diagnostics };
    } catch (err) {
      out.abort();
      throw err;
    } finally {
      progress.stop();
    }
  };
  const conversion = inTimeOrder(opened, convertOnce).then(() => profilePath);
  // Handled below; keep an early failure from being reported as unhandled.
  conversion.catch(() => undefined);
  let server: ViewServer | undefined;
  try {
    const mode = options.view ?? 'auto';
    server = await startViewServer({
      host: options.host,
      port: options.port,
      profile: () => conversion,
      title: basename(opened.name),
      view: async () => {
        await conversion;
        return speedscopeView(mode, events / 2);
      },
    });
    options.onListening?.(server);
    if (options.host !== undefined && !isLoopback(options.host)) {
      log(
        `warning: serving on ${options.host}: anyone who can reach this address and port can read the trace`,
      );
    }
    log(
      `viewing ${opened.name} (${format.name}) with speedscope at ${server.origin}/ ${options.once ? '(stops once the trace is loaded)' : '(Ctrl-C stops)'}`,
    );
    log(perfettoHint(input));
    const url = mode === 'auto' ? server.url : `${server.url}&view=${speedscopeView(mode, 0)}`;
    (options.printUrl ?? ((line: string) => process.stdout.write(line + '\n')))(url);
    if (options.open) openBrowser(url, log);
    await Promise.race([conversion, stop]);
    if (stopped) return { inputFormat: format.name, events, convertMs, diagnostics, url, stopped };
    log(`converted ${events / 2} calls (${events} open/close events) in ${(convertMs / 1000).toFixed(2)} s`);
    if (mode === 'auto' && speedscopeView(mode, events / 2) === 'left-heavy') {
      log(
        `${events / 2} calls: opening speedscope's Left Heavy view (merged stacks, appears quickly); Time Order is at the top left and takes longer to lay out, or use --view time-order`,
      );
    }
    if (options.once) await Promise.race([server.traceDelivered, stop]);
    else await stop;
    return { inputFormat: format.name, events, convertMs, diagnostics, url, stopped };
  } finally {
    stopped = true;
    releaseSignals();
    await server?.close();
    await conversion.catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A file already in speedscope's format (e.g. from `viz convert --to speedscope`)
 * is served as it is: copied to a temporary file (it may be gzipped or stdin).
 */
async function serveAsIs(
  opened: Input,
  options: ViewOptions,
  log: (line: string) => void,
  start: number,
): Promise<ViewResult> {
  const dir = mkdtempSync(join(tmpdir(), 'viz-view-'));
  const profilePath = join(dir, 'trace.speedscope.json');
  const stop = options.stopSignal ?? untilSignal();
  let server: ViewServer | undefined;
  try {
    const out = openOutput(profilePath);
    try {
      for await (const chunk of opened.chunks()) await out.write(chunk);
      await out.commit();
    } catch (err) {
      out.abort();
      throw err;
    }
    const mode = options.view ?? 'auto';
    server = await startViewServer({
      host: options.host,
      port: options.port,
      profile: async () => profilePath,
      title: basename(opened.name),
      view: async () => speedscopeView(mode, 0),
    });
    options.onListening?.(server);
    if (options.host !== undefined && !isLoopback(options.host)) {
      log(
        `warning: serving on ${options.host}: anyone who can reach this address and port can read the trace`,
      );
    }
    log(
      `viewing ${opened.name} (already in speedscope's format, served as it is) at ${server.origin}/ ${options.once ? '(stops once the trace is loaded)' : '(Ctrl-C stops)'}`,
    );
    const url = mode === 'auto' ? server.url : `${server.url}&view=${speedscopeView(mode, 0)}`;
    (options.printUrl ?? ((line: string) => process.stdout.write(line + '\n')))(url);
    if (options.open) openBrowser(url, log);
    if (options.once) await Promise.race([server.traceDelivered, stop]);
    else await stop;
    return {
      inputFormat: 'speedscope',
      events: 0,
      convertMs: performance.now() - start,
      diagnostics: new Diagnostics(),
      url,
    };
  } finally {
    releaseSignals();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

class Stopped extends Error {}

/** The source, ending with an error at the next batch once `isStopped()` says so. */
function stoppable(source: TraceSource, isStopped: () => boolean): TraceSource {
  return withBatches(source, async function* () {
    for await (const batch of source.batches()) {
      if (isStopped()) throw new Stopped('stopped');
      yield batch;
    }
  });
}

let releaseSignals: () => void = () => undefined;

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      releaseSignals();
      process.stderr.write('\n');
      resolve();
    };
    releaseSignals = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      releaseSignals = () => undefined;
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/** Opens the URL in the default browser if there is an opener; never fails. */
export function openBrowser(url: string, log: (line: string) => void): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => log(`no browser opener (${cmd}) found: open the URL above yourself`));
    child.on('exit', (code) => {
      if (code) log(`${cmd} could not open a browser (exit status ${code}): open the URL above yourself`);
    });
    child.unref();
  } catch {
    log(`could not start ${cmd}: open the URL above yourself`);
  }
}
