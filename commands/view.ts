import { Args, Flags } from '@oclif/core';
import { VizCommand } from '../src/cli/base.js';
import { strictFlag } from '../src/cli/flags.js';
import { VIEW_MODES, type ViewMode } from '../src/view/modes.js';
import { view } from '../src/view/session.js';

export default class View extends VizCommand {
  static summary = 'Open a trace in speedscope, served from this machine (no internet needed).';
  static description = `Converts the trace (any format viz reads) to speedscope's own format on the way, which speedscope loads in linear time, and serves it together with speedscope's offline build on 127.0.0.1. Prints the URL; --open starts the default browser. Only the viewer's files and the trace are served, to requests addressed to this server.

With --export FILE.html it writes one self-contained HTML file instead (viewer and trace inlined), which opens from file:// without a server or network: a report to send to a colleague.

speedscope shows one thread at a time (pick it at the top). For one timeline of all processes and threads at once, convert the trace for Perfetto's UI: viz convert TRACE --to perfetto.`;
  static examples = [
    {
      description: 'View a VizTracer trace in the default browser',
      command: '<%= config.bin %> view result.json --open',
    },
    {
      description: 'Write a single-file report',
      command: '<%= config.bin %> view result.json --export report.html',
    },
    {
      description: 'Fixed port, exit once the page has loaded the trace',
      command: '<%= config.bin %> view trace.json.gz --port 9001 --once',
    },
  ];
  static args = {
    input: Args.string({ description: 'Trace file to view, or - for stdin.', required: true }),
  };
  static flags = {
    port: Flags.integer({
      char: 'p',
      min: 0,
      max: 65535,
      description: 'Port to listen on (default: a free one).',
    }),
    host: Flags.string({
      description: 'Address to listen on instead of 127.0.0.1 (exposes the trace to whoever can reach it).',
    }),
    open: Flags.boolean({ description: 'Open the default browser (if there is one).' }),
    once: Flags.boolean({ description: 'Exit once the page has loaded the trace.' }),
    export: Flags.string({
      char: 'e',
      description: 'Write a single-file HTML report to this path instead of serving.',
    }),
    view: Flags.option({
      options: VIEW_MODES,
      default: 'auto' as ViewMode,
      description:
        'speedscope view to open: auto picks Left Heavy above 500,000 calls (Time Order lays out every call and takes longer), otherwise Time Order.',
    })(),
    strict: strictFlag,
  };

  override async init(): Promise<void> {
    await super.init();
    // Ctrl-C is how the server is stopped: a clean stop, not an interruption.
    process.removeAllListeners('SIGINT');
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(View);
    const result = await view(args.input, {
      port: flags.port,
      host: flags.host,
      open: flags.open,
      once: flags.once,
      export: flags.export,
      view: flags.view as ViewMode,
    });
    if (result.exported)
      process.stderr.write(
        `viz: wrote ${result.exported} (${result.inputFormat === 'speedscope' ? 'speedscope file as it is' : `${result.events / 2} calls`}, viewer inlined)\n`,
      );
    else process.stderr.write('viz: stopped\n');
    this.reportDiagnostics(result.diagnostics, flags.strict);
  }
}
