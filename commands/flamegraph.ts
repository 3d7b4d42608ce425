import { Args, Flags } from '@oclif/core';
import { VizCommand } from '../src/cli/base.js';
import { strictFlag, threadSelectionFlags } from '../src/cli/flags.js';
import { flamegraph } from '../src/analyze/flamegraph/index.js';
import { PALETTES } from '../src/analyze/flamegraph/render-svg.js';
import { compileRegex } from '../src/analyze/stats/index.js';

export default class Flamegraph extends VizCommand {
  static summary = 'Draw a flame graph (interactive SVG or HTML) or write folded stacks.';
  static description = `Folds every thread's call stacks, weighted by self time in integer nanoseconds, in one streaming pass over any trace viz reads (or reads a folded file: "a;b;c 1234" lines). The SVG is self-contained: click a frame to zoom, "Reset Zoom", "Search" takes a regular expression and shows the matched share of the total; hover for name, file:line, time and percent. Colours come from a hash of the function name, so the same input always gives the same picture.`;
  static examples = [
    {
      description: 'Interactive flame graph',
      command: '<%= config.bin %> flamegraph trace.json -o flame.svg',
    },
    {
      description: 'Folded stacks for flamegraph.pl or inferno, in microseconds',
      command: '<%= config.bin %> flamegraph trace.json --unit us -o trace.folded',
    },
    {
      description: 'Icicle graph of one thread, recursion collapsed',
      command:
        '<%= config.bin %> flamegraph trace.json --thread MainThread --collapse-recursion --inverted -o icicle.html',
    },
    {
      description: 'What changed between two runs (red grew, blue shrank)',
      command: '<%= config.bin %> flamegraph --diff before.json after.json -o diff.svg',
    },
    {
      description: 'Render a folded file from another tool',
      command: '<%= config.bin %> flamegraph perf.folded --title "perf" -o perf.svg',
    },
  ];
  static args = {
    input: Args.string({ description: 'Trace or folded file to read, or - for stdin.', required: false }),
  };
  static flags = {
    output: Flags.string({
      char: 'o',
      description: 'Output file (.svg, .html or .folded); - writes to stdout (the default).',
    }),
    format: Flags.option({
      options: ['svg', 'html', 'folded'] as const,
      description: 'Output format; inferred from -o when omitted, else svg.',
    })(),
    ...threadSelectionFlags,
    'per-thread': Flags.boolean({
      description: 'Put a frame naming the thread at the root of each stack instead of merging threads.',
    }),
    include: Flags.string({ description: 'Keep only stacks with a frame matching this regular expression.' }),
    exclude: Flags.string({ description: 'Drop stacks with a frame matching this regular expression.' }),
    'collapse-recursion': Flags.boolean({ description: 'Merge directly recursive frames (a;a;a -> a).' }),
    'max-depth': Flags.integer({
      min: 1,
      description: 'Count frames deeper than this in their ancestor at this depth.',
    }),
    unit: Flags.option({
      options: ['ns', 'us', 'samples'] as const,
      description:
        'Folded output from a trace: ns (default) or us. Folded input: what the counts are (default samples).',
    })(),
    title: Flags.string({ description: 'Title of the graph.' }),
    width: Flags.integer({ min: 100, description: 'Width in pixels (default 1200).' }),
    minwidth: Flags.string({
      description: 'Omit frames narrower than this many pixels (default 0.1), or a percentage like 0.5%.',
    }),
    colors: Flags.option({
      options: PALETTES,
      description: 'Palette (default hot); colours come from a hash of the name.',
    })(),
    inverted: Flags.boolean({ description: 'Icicle graph: roots at the top.' }),
    reverse: Flags.boolean({
      description: 'Reverse the stacks: leaves become roots (who calls the hot functions).',
    }),
    diff: Flags.boolean({
      description: 'Differential graph of two inputs: viz flamegraph --diff BEFORE AFTER.',
    }),
    strict: strictFlag,
  };
  static strict = false;

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Flamegraph);
    const inputs = argv as string[];
    if (flags.diff ? inputs.length !== 2 : inputs.length !== 1) {
      this.error(
        flags.diff
          ? '--diff needs two inputs: BEFORE AFTER'
          : 'expected one input (a trace, a folded file or -)',
        { exit: 2 },
      );
    }
    const minWidth =
      flags.minwidth === undefined
        ? undefined
        : flags.minwidth.endsWith('%')
          ? flags.minwidth
          : Number(flags.minwidth);
    if (typeof minWidth === 'number' && !(minWidth >= 0))
      this.error('--minwidth: expected pixels (a number) or a percentage like 0.5%', { exit: 2 });
    const result = await flamegraph(inputs[0]!, {
      output: flags.output,
      format: flags.format,
      threads: flags.thread,
      processes: flags.process,
      perThread: flags['per-thread'],
      include: compileRegex('--include', flags.include),
      exclude: compileRegex('--exclude', flags.exclude),
      collapseRecursion: flags['collapse-recursion'],
      maxDepth: flags['max-depth'],
      unit: flags.unit,
      title: flags.title,
      width: flags.width,
      minWidth,
      colors: flags.colors,
      inverted: flags.inverted,
      reverse: flags.reverse,
      diffAfter: flags.diff ? inputs[1] : undefined,
      progress: true,
    });
    if (result.output !== '<stdout>') {
      const what = result.format === 'folded' ? `${result.items} stacks` : `${result.items} frames`;
      process.stderr.write(`viz: wrote ${what} (${result.format}) to ${result.output}\n`);
    }
    this.reportDiagnostics(result.diagnostics, flags.strict);
  }
}
