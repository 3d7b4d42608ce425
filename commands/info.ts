import { Args } from '@oclif/core';
import { VizCommand } from '../src/cli/base.js';
import { formatInfo } from '../src/ops/info-text.js';
import { info, type InfoReport } from '../src/ops/info.js';

export default class Info extends VizCommand {
  static summary =
    'Describe a trace: format, events by phase, processes and threads, time span, diagnostics.';
  static description =
    'Reads the whole trace in one streaming pass. With --json the report is one JSON document on stdout, for scripts.';
  static enableJsonFlag = true;
  static examples = [
    { description: 'Summarise a trace', command: '<%= config.bin %> info samples/traces/fib15.json' },
    {
      description: 'Machine-readable report',
      command: "<%= config.bin %> info trace.json.gz --json | jq '.phases'",
    },
  ];
  static args = {
    input: Args.string({ description: 'Trace file to read, or - for stdin.', required: true }),
  };

  async run(): Promise<InfoReport> {
    const { args } = await this.parse(Info);
    const report = await info(args.input, { progress: !this.jsonEnabled() });
    if (!this.jsonEnabled()) process.stdout.write(formatInfo(report));
    return report;
  }
}
