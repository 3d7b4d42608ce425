/** Flags shared by several commands, defined once so their names and help agree. */
import { Flags } from '@oclif/core';

/** `--thread` / `--process`: which threads an analysis looks at (default: all, merged). */
export const threadSelectionFlags = {
  thread: Flags.string({
    description: 'Only this thread (tid or thread name); repeatable.',
    multiple: true,
  }),
  process: Flags.string({
    description: 'Only this process (pid or process name); repeatable.',
    multiple: true,
  }),
};

/** `--strict`: data loss in the input becomes exit status 1. */
export const strictFlag = Flags.boolean({
  description: 'Exit with status 1 when the input lost data (truncated, overwritten, unmatched events).',
});
