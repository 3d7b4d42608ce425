/**
 * Base class of every viz command: turns errors into one line on stderr and a
 * distinct exit status (see `EXIT`), shows stack traces only with `--debug`,
 * and removes partial outputs when interrupted.
 */
import { Command, Flags } from '@oclif/core';
import { abortAllOutputs } from '../io/output.js';
import { EXIT, VizError } from '../model/errors.js';
import type { Diagnostics } from '../model/diagnostics.js';

export abstract class VizCommand extends Command {
  static baseFlags = {
    debug: Flags.boolean({ description: 'Show stack traces for errors.', helpGroup: 'GLOBAL' }),
  };

  override async init(): Promise<void> {
    await super.init();
    process.once('SIGINT', () => {
      abortAllOutputs();
      process.stderr.write('viz: interrupted; no output written\n');
      process.exit(130);
    });
  }

  protected override async catch(
    err: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<void> {
    abortAllOutputs();
    const debug = process.argv.includes('--debug');
    if (err instanceof VizError) {
      process.stderr.write(`viz: ${err.message}\n`);
      for (const s of err.suggestions) process.stderr.write(`  hint: ${s}\n`);
      if (debug) process.stderr.write(`${err.stack}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    if (err.oclif) {
      // oclif's own usage errors (unknown flag, missing argument): exit 2, no stack.
      if (err.oclif.exit === 0) return;
      process.stderr.write(`viz: ${firstLine(err.message)}\n`);
      if (debug) process.stderr.write(`${err.stack}\n`);
      process.exitCode = err.oclif.exit ?? EXIT.usage;
      return;
    }
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') {
      process.exitCode = EXIT.ok;
      return;
    }
    process.stderr.write(
      `viz: internal error: ${firstLine(err.message)}${debug ? '' : ' (run with --debug for details)'}\n`,
    );
    if (debug) process.stderr.write(`${err.stack}\n`);
    process.exitCode = EXIT.internal;
  }

  /** Prints the diagnostics summary line; with `strict`, data loss makes the exit status non-zero. */
  protected reportDiagnostics(diagnostics: Diagnostics, strict: boolean): void {
    const line = diagnostics.summaryLine();
    if (line) process.stderr.write(`viz: ${line}\n`);
    if (strict && diagnostics.hasDataLoss) {
      process.stderr.write('viz: --strict: the trace lost data\n');
      process.exitCode = EXIT.dataLoss;
    }
  }
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.replace(/^\s*(Error:\s*)?/, '').trim();
}
