/**
 * Chrome JSON -> Perfetto -> Chrome JSON keeps what the README promises: slice names, categories,
 * timestamps to the ns, durations, nesting, pids/tids and their names, instants, counters, flows
 * and args. Both sides are reduced to the same canonical lines (through the shared ordering and
 * nesting rules) and compared; documented exceptions are normalised away here, nothing else.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { canonical } from '../../support/trace-canon.js';
import { assertGolden } from '../../support/golden.js';
import { fixtureText, traceFixtures } from '../../support/fixtures.js';
import { convertTo } from './helpers.js';

/** Fixtures whose ids cannot survive: string pids/tids get synthetic numbers (documented). */
const STRING_IDS = (text: string): boolean => /"(pid|tid)"\s*:\s*"/.test(text);

describe('Perfetto round trip: Chrome JSON -> Perfetto -> Chrome JSON', () => {
  for (const fx of traceFixtures()) {
    it(`${fx.name} keeps slices, instants, counters, flows, args and names`, async () => {
      const base = fx.name.replace(/[/.]/g, '_');
      const pf = await convertTo(fx.path, 'perfetto', base + '.pftrace');
      const back = await convertTo(pf.path, 'chrome', base + '.back.json');
      let before = await canonical(fx.path);
      let after = await canonical(back.path);
      // exception: malformed async sequences are repaired on the way (an end matching no open
      // begin is dropped, an end closes the slices opened after it, unclosed ones end with the
      // trace), so ends are compared by balance, not line by line.
      const ends = after.filter((l) => l.startsWith('async e ')).length;
      assert.equal(ends, after.filter((l) => l.startsWith('async b ')).length, 'async slices unbalanced');
      before = before.filter((l) => !l.startsWith('async e '));
      after = after.filter((l) => !l.startsWith('async e '));
      if (STRING_IDS(fixtureText(fx.path))) {
        // exception: string pids/tids become synthetic numbers named after the string
        const anon = (lines: string[]): string[] =>
          lines
            .filter((l) => !/^[pt]name /.test(l))
            .map((l) => l.replace(/^(slice|instant t|flow .) \S+/, '$1 _'))
            .sort();
        before = anon(before);
        after = anon(after);
      }
      const missing = before.filter((l) => !after.includes(l));
      const added = after.filter((l) => !before.includes(l));
      assert.deepEqual(
        { missing: missing.slice(0, 8), added: added.slice(0, 8) },
        { missing: [], added: [] },
      );
    });
  }
});

describe('Perfetto round trip goldens', () => {
  const GOLDEN = [
    'external/catapult/flow_simple.json',
    'external/catapult/instance_counters.json',
    'external/catapult/instant_events.json',
    'external/catapult/nestable_async.json',
    'external/catapult/async_begin_end.json',
    'external/speedscope/not-enough-end-events.json',
    'viztracer-generated/custom_events.json',
  ];
  for (const name of GOLDEN) {
    it(`golden: ${name} back to Chrome JSON`, async () => {
      const fx = traceFixtures().find((f) => f.name === name);
      assert.ok(fx, `fixture ${name} missing`);
      const base = 'golden_' + name.replace(/[/.]/g, '_');
      const pf = await convertTo(fx.path, 'perfetto', base + '.pftrace');
      const back = await convertTo(pf.path, 'chrome', base + '.json');
      assertGolden(
        `perfetto/${name.replace(/\//g, '__').replace(/\.json$/, '')}.roundtrip.json`,
        readFileSync(back.path, 'utf8'),
      );
    });
  }
});
