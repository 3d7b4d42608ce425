export class Counter {
  counts = new Map();

  add(word) {
    this.counts.set(word, (this.counts.get(word) ?? 0) + 1);
  }
}

export function tally(counter) {
  return [...counter.counts.entries()].sort(compare).slice(0, 3);
}

function compare(a, b) {
  return b[1] - a[1] || a[0].localeCompare(b[0]);
}
