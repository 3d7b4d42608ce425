import { Args, Flags } from '@oclif/core';
import { VizCommand } from '../src/cli/base.js';
import { strictFlag, threadSelectionFlags } from '../src/cli/flags.js';
import { SORT_KEYS, stats, statsDiff } from '../src/analyze/stats/index.js';
import { renderStats, renderStatsDiff, type TableFormat } from '../src/analyze/stats/table.js';
import { Diagnostics } from '../src/model/diagnostics.js';

export default class Stats extends VizCommand {
  static summary = 'Per-function statistics: calls, self and total time, mean, min, max, p50/p95/p99.';
  static description = `One streaming pass over any trace viz reads. Rules follow Python's pstats: "calls" shows all/primitive when a function recursed, "self" is tottime, "total" is cumtime counted over outermost calls only, so recursion is counted once. mean/min/max/percentiles are over every call's inclusive duration; percentiles come from a log-bucket histogram with 1% relative error. Sort by any column; pstats names (tottime, cumtime, ncalls, pcalls, percall, name) are accepted.`;
  static examples = [
    {
      description: 'The 20 functions with the most self time',
      command: '<%= config.bin %> stats trace.json --top 20',
    },
    {
      description: 'pstats-style sort, Markdown output',
      command: '<%= config.bin %> stats trace.json --sort cumtime --md',
    },
    {
      description: 'Who calls a function',
      command: "<%= config.bin %> stats trace.json --callers 'fib (fib.py:3)'",
    },
    {
      description: 'Compare two runs',
      command: '<%= config.bin %> stats --diff before.json after.json --top 10',
    },
  ];
  static args = {
    input: Args.string({ description: 'Trace to read, or - for stdin.', required: false }),
  };
  static flags = {
    top: Flags.integer({ min: 1, description: 'Show only the first N rows.' }),
    sort: Flags.string({
      description: `Sort column: ${SORT_KEYS.join(', ')} (or pstats names: tottime, cumtime, ncalls, ...). Default self; with --diff: delta.`,
    }),
    ...threadSelectionFlags,
    filter: Flags.string({ description: 'Only functions whose name matches this regular expression.' }),
    callers: Flags.string({
      description: 'Also list the callers of this function (exact name or regular expression).',
    }),
    callees: Flags.string({
      description: 'Also list the functions this function calls (exact name or regular expression).',
    }),
    json: Flags.boolean({ description: 'Output JSON (times in ns).', exclusive: ['csv', 'md'] }),
    csv: Flags.boolean({ description: 'Output CSV (times in ns).', exclusive: ['json', 'md'] }),
    md: Flags.boolean({ description: 'Output a Markdown table.', exclusive: ['json', 'csv'] }),
    diff: Flags.boolean({ description: 'Compare two inputs: viz stats --diff BEFORE AFTER.' }),
    strict: strictFlag,
  };
  static strict = false;

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Stats);
    const inputs = argv as string[];
    if (flags.diff ? inputs.length !== 2 : inputs.length !== 1) {
      this.error(flags.diff ? '--diff needs two inputs: BEFORE AFTER' : 'expected one input (a trace or -)', {
        exit: 2,
      });
    }
    const format: TableFormat = flags.json ? 'json' : flags.csv ? 'csv' : flags.md ? 'md' : 'text';
    const options = {
      top: flags.top,
      sort: flags.sort,
      threads: flags.thread,
      processes: flags.process,
      filter: flags.filter,
      callers: flags.callers,
      callees: flags.callees,
      progress: format === 'text',
    };
    const diagnostics = new Diagnostics();
    if (flags.diff) {
      const report = await statsDiff(inputs[0]!, inputs[1]!, options);
      process.stdout.write(renderStatsDiff(report, format));
      for (const d of report.diagnostics) diagnostics.add(d.code, d.severity, d.message, d.count);
    } else {
      const report = await stats(inputs[0]!, options);
      process.stdout.write(renderStats(report, format));
      for (const d of report.diagnostics) diagnostics.add(d.code, d.severity, d.message, d.count);
    }
    this.reportDiagnostics(diagnostics, flags.strict);
  }
}
