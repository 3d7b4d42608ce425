/** Which of speedscope's views `viz view` and the report open. */
export type ViewMode = 'auto' | 'time-order' | 'left-heavy' | 'sandwich';
export const VIEW_MODES: ViewMode[] = ['auto', 'time-order', 'left-heavy', 'sandwich'];

/**
 * speedscope's Time Order view lays out every call (1M calls: ~8 s of layout and
 * drawing after the import on a 2-core machine); Left Heavy merges identical
 * stacks and appears in about a second. `auto` opens Left Heavy above this many
 * calls; Time Order is one click away.
 */
export const LARGE_TRACE_CALLS = 500_000;

/** speedscope's name for a view (its `#view=` hash parameter), undefined for its default (Time Order). */
export function speedscopeView(mode: ViewMode | undefined, calls: number): string | undefined {
  switch (mode ?? 'auto') {
    case 'time-order':
      return 'time-ordered';
    case 'left-heavy':
      return 'left-heavy';
    case 'sandwich':
      return 'sandwich';
    default:
      return calls > LARGE_TRACE_CALLS ? 'left-heavy' : undefined;
  }
}
