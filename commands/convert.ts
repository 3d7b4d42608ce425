import { Args, Flags } from '@oclif/core';
import { VizCommand } from '../src/cli/base.js';
import { strictFlag } from '../src/cli/flags.js';
import { writableNames } from '../src/formats/registry.js';
import { convert } from '../src/ops/convert.js';

export default class Convert extends VizCommand {
  static summary = 'Convert a trace to another format, streaming.';
  static description = `Reads any trace viz understands (Chrome JSON, gzipped or not, from any producer; viz ring dumps) and writes it in the format given by --to or by the output file's extension. Memory stays bounded whatever the input size. The output file is written to a temporary name and renamed at the end, so a failed run never clobbers an existing file.`;
  static examples = [
    {
      description: 'Normalise a VizTracer trace to Chrome JSON',
      command: '<%= config.bin %> convert result.json --to chrome -o normalised.json',
    },
    {
      description: 'Compress a trace (format from the extension)',
      command: '<%= config.bin %> convert trace.json -o trace.json.gz',
    },
    {
      description: 'Read from stdin, write to stdout',
      command: 'gunzip -c trace.json.gz | <%= config.bin %> convert - --to chrome > trace.json',
    },
  ];
  static args = {
    input: Args.string({ description: 'Trace file to read, or - for stdin.', required: true }),
  };
  static flags = {
    to: Flags.string({
      char: 't',
      description: `Output format (${writableNames().join(', ')}); inferred from -o's extension when omitted.`,
    }),
    output: Flags.string({ char: 'o', description: 'Output file; - writes to stdout (the default).' }),
    compress: Flags.boolean({
      allowNo: true,
      description:
        'Perfetto output: deflate the packets (the default). --no-compress writes plain records: a file about 3-6x larger, written faster and readable with protoc --decode_raw.',
    }),
    strict: strictFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Convert);
    const result = await convert(args.input, {
      to: flags.to,
      output: flags.output,
      compress: flags.compress,
    });
    if (result.output !== '<stdout>') {
      process.stderr.write(
        `viz: wrote ${result.events} events (${result.inputFormat} -> ${result.outputFormat}) to ${result.output}\n`,
      );
    }
    this.reportDiagnostics(result.diagnostics, flags.strict);
  }
}
