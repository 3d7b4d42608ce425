import { Args, Flags } from '@oclif/core';
import { VizCommand } from '../src/cli/base.js';
import { VizError } from '../src/model/errors.js';
import { exitLikeChild, parseDuration, record, splitRecordArgv } from '../src/record/index.js';
import type { LogKind } from '../src/record/spawn.js';

export default class RecordCommand extends VizCommand {
  static summary = 'Run a Node.js program and record every function call into a trace.';

  static description = [
    "Runs the program with a preload that instruments its JavaScript and TypeScript as it loads (no source change) and records each function entry and exit into a native ring buffer per thread, which keeps the newest events. The ring is written when the program ends: normally, through process.exit(), after an uncaught exception or unhandled rejection, on a signal, or on a crash. The program's stdin, stdout, stderr and exit status pass through unchanged; viz prints one summary line on stderr.",
    "Give a script (TypeScript runs through tsx) or, after --, a command that starts node (node with its own flags, npx, an npm script). Everything after the script or after -- belongs to the program: put viz's flags first. Launchers (npm, npx, yarn, pnpm) are not traced; every other Node.js process the program starts (fork, spawn of node, node --test, children given their own env) is traced and merged into the same trace, one process per track group, on one time axis (--no-follow: the first process only). Worker threads get their own tracks, named after the worker. Each call of an async function or generator that suspends is an async span. Code made by eval(), new Function() or node -e is not traced.",
    'The output is a ring dump (.vizdump) unless -o names a file another format writes (.json, .json.gz: Chrome trace), to which it is converted on the fly.',
  ].join('\n\n');

  static examples = [
    {
      command: '<%= config.bin %> record samples/record/fib.js 20',
      description: 'Record a script with its arguments.',
    },
    {
      command: '<%= config.bin %> record -o fib.json samples/record/fib.js 25',
      description: 'Write a Chrome trace directly.',
    },
    {
      command: '<%= config.bin %> record samples/record/ts/app.ts',
      description: 'Record a TypeScript program (run through tsx).',
    },
    {
      command: '<%= config.bin %> record -o test.vizdump -- npm test',
      description: "Record an npm script; the dump is the test runner's.",
    },
    {
      command: '<%= config.bin %> record --log-args --log-return --log-exceptions -o t.json app.js',
      description: 'Keep arguments, return values and every thrown error with the calls.',
    },
    {
      command:
        '<%= config.bin %> record --log-gc --log-memory --log-event-loop --log-interval 50ms -o t.json server.js',
      description: 'Add GC slices and memory / event-loop counters sampled every 50 ms.',
    },
    {
      command: '<%= config.bin %> record --buffer-size 4000000 -- node --stack-size=2000 app.mjs',
      description: 'Pass node its own flags; keep the last 4 million events per thread.',
    },
    {
      command:
        "<%= config.bin %> record --exclude '**/node_modules/**' --min-duration 100us -o t.json -- npm test",
      description:
        'Leave dependencies uninstrumented; keep slices of 100 µs or more; child processes are merged.',
    },
  ];

  static strict = false;

  static args = {
    program: Args.string({
      description: 'script to run (or, after --, the command), followed by its arguments',
      ignoreStdin: true,
    }),
  };

  static flags = {
    output: Flags.string({
      char: 'o',
      description:
        'output file: .vizdump (default viz-<name>-<time>.vizdump), .json or .json.gz (Chrome trace)',
    }),
    'buffer-size': Flags.integer({
      min: 1024,
      description: 'ring capacity per thread, in events (the oldest are overwritten when it is full)',
    }),
    'no-cache': Flags.boolean({ description: 'do not read or write the cache of instrumented sources' }),
    include: Flags.string({
      multiple: true,
      description:
        'trace only source files matching this glob (absolute, or relative to the working directory; repeatable)',
    }),
    exclude: Flags.string({
      multiple: true,
      description:
        "never instrument source files matching this glob (repeatable); e.g. '**/node_modules/**' (node_modules is traced by default)",
    }),
    'no-follow': Flags.boolean({
      description: 'do not trace the child processes of the program (worker threads still are)',
    }),
    'max-depth': Flags.integer({
      min: 1,
      description: 'drop slices nested deeper than N on their thread (when converting, not in .vizdump)',
    }),
    'min-duration': Flags.string({
      description:
        'drop slices and async spans shorter than this (ns, or with a unit: 50us, 1ms) when converting (not in .vizdump)',
    }),
    sparse: Flags.boolean({
      description:
        "trace only the functions named with --function and those wrapped by the API's traced() (others are not instrumented)",
    }),
    function: Flags.string({
      multiple: true,
      description:
        'with --sparse: a function to trace, by the name frames show (f, Class.method; repeatable)',
    }),
    stats: Flags.boolean({
      description: 'print the 10 functions that produced the most events after the run',
    }),
    'log-args': Flags.boolean({
      description: 'store a bounded rendering of every call\'s arguments (slice args "func_args")',
    }),
    'log-return': Flags.boolean({
      description: 'store a bounded rendering of every return value (slice args "return_value")',
    }),
    'log-exceptions': Flags.boolean({
      description:
        'an instant "exception" for every error thrown (caught ones included) with its type and message',
    }),
    'log-console': Flags.boolean({
      description:
        'console output as instants ("console.log", ...) with the text; the program still prints it',
    }),
    'log-gc': Flags.boolean({
      description: 'garbage collections as slices on a "V8 GC" track, named by kind',
    }),
    'log-event-loop': Flags.boolean({
      description: 'event-loop delay (p50/p99/max) and utilization as counters, every --log-interval',
    }),
    'log-memory': Flags.boolean({
      description: 'heap used, heap total, external and RSS as counters, every --log-interval',
    }),
    'log-interval': Flags.string({
      description: 'sampling interval of --log-event-loop and --log-memory (default 100ms)',
    }),
    paused: Flags.boolean({
      description: "start with call recording stopped: the program turns it on with the API's start()",
    }),
  };

  override async init(): Promise<void> {
    // The base class exits on SIGINT; here Ctrl-C belongs to the traced program, which gets it
    // from the terminal itself: viz waits for it to end and then collects its dump.
    const before = new Set(process.listeners('SIGINT'));
    await super.init();
    for (const l of process.listeners('SIGINT')) if (!before.has(l)) process.removeListener('SIGINT', l);
  }

  async run(): Promise<void> {
    const split = splitRecordArgv(this.argv, RecordCommand.flags);
    const { flags } = await this.parse(RecordCommand, split.vizArgv);
    if (flags.function?.length && !flags.sparse) {
      this.error('--function applies to --sparse mode: add --sparse', { exit: 2 });
    }
    const result = await record({
      argv: split.program,
      command: split.command,
      output: flags.output,
      bufferSize: flags['buffer-size'],
      cacheDir: flags['no-cache'] ? '' : undefined,
      include: flags.include,
      exclude: flags.exclude,
      follow: !flags['no-follow'],
      functions: flags.sparse ? (flags.function ?? []) : undefined,
      log: (
        [
          ['log-args', 'args'],
          ['log-return', 'return'],
          ['log-exceptions', 'exceptions'],
          ['log-console', 'console'],
          ['log-gc', 'gc'],
          ['log-event-loop', 'event-loop'],
          ['log-memory', 'memory'],
        ] as const
      )
        .filter(([flag]) => flags[flag])
        .map(([, kind]): LogKind => kind),
      logIntervalMs: flags['log-interval'] ? logInterval(flags['log-interval']) : undefined,
      paused: flags.paused,
      stats: flags.stats,
      filter: {
        maxDepth: flags['max-depth'],
        minDurationNs: flags['min-duration'] ? parseDuration(flags['min-duration']) : undefined,
      },
    });
    for (const line of result.messages) process.stderr.write(`${line}\n`);
    exitLikeChild(result.exit);
  }
}

/** `--log-interval`: a duration of at least 1 ms, in ms. */
function logInterval(text: string): number {
  const ms = parseDuration(text, '--log-interval') / 1e6;
  if (!(ms >= 1)) throw new VizError('usage', `--log-interval ${text}: the interval must be at least 1ms`);
  return ms;
}
