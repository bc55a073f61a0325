#!/usr/bin/env bash
# Regenerates the served tracker, src/footfall/web/static/script.min.js, from its
# readable source script.js with terser (npm). Run it after editing script.js and
# commit both files: nothing is built at install or run time. The header records
# the source's sha256, and tests/unit/test_script_route.py fails when they differ.
set -euo pipefail
cd "$(dirname "$0")/.."
static=src/footfall/web/static
digest=$(sha256sum "$static/script.js" | cut -c1-64)
minified=$(npx --yes terser@5.51.2 "$static/script.js" --compress passes=2 --mangle --ecma 5)
printf '/*! footfall tracker, MIT; built from script.js sha256:%s */\n%s\n' \
    "$digest" "$minified" >"$static/script.min.js"
raw=$(wc -c <"$static/script.min.js")
gz=$(gzip -9 -c "$static/script.min.js" | wc -c)
echo "script.min.js: $raw bytes, $gz bytes gzipped"
