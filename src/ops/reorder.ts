/**
 * Streaming first, sorting on disk when streaming cannot be right. Consumers that nest slices
 * stream events through small per-thread reorder windows (`timeOrdered`). An event that arrives
 * behind its window would be nested wrongly: VizTracer writes each call when it ends, so a
 * program's root comes after every call inside it, a whole trace late. A file is then read again
 * and sorted by time on disk (`reordered_on_disk`, info); stdin and pipes cannot be read twice and
 * keep the streamed result, with a `late_event` error that says what to do.
 */
import type { Input } from '../io/input.js';
import type { Diagnostics } from '../model/diagnostics.js';
import { isLateEventError, type Ordering } from '../model/order.js';

const PIPE_HINT = ' (given a file rather than a pipe, viz reads it again and sorts it on disk)';

/**
 * Runs `attempt` on `input` streaming; if an event arrives behind its window and the input is a
 * file (and `canRetry`, e.g. the output is not stdout), runs it again on the file reopened, sorted
 * on disk. `attempt` must start from nothing each time (fresh handler, fresh output).
 */
export async function inTimeOrder<T extends { diagnostics: Diagnostics }>(
  input: Input,
  attempt: (input: Input, ordering: Ordering) => Promise<T>,
  options: { canRetry?: boolean; hint?: string } = {},
): Promise<T> {
  const reopen = input.reopen;
  if (reopen === undefined || options.canRetry === false) {
    return attempt(input, { lateHint: reopen === undefined ? PIPE_HINT : (options.hint ?? '') });
  }
  try {
    return await attempt(input, { lateEvents: 'throw' });
  } catch (err) {
    if (!isLateEventError(err)) throw err;
    input.close();
    const again = await attempt(await reopen(), { external: true });
    again.diagnostics.add(
      'reordered_on_disk',
      'info',
      `${input.name}: ${err.message}; the file was read again and sorted by time on disk`,
    );
    return again;
  }
}
