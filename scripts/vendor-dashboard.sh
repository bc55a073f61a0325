#!/usr/bin/env bash
# Refresh the dashboard's vendored chart library (uPlot) from the npm registry.
#
#   scripts/vendor-dashboard.sh            # the pinned version below
#   UPLOT_VERSION=1.6.33 scripts/vendor-dashboard.sh
#
# Writes src/footfall/dashboard/static/vendor/: the minified IIFE build, its CSS,
# the LICENSE and VERSION.txt (version, tarball URL and its integrity hash). Commit
# them: the dashboard needs no build step and no CDN at run time.
set -euo pipefail

VERSION="${UPLOT_VERSION:-1.6.32}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/src/footfall/dashboard/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
# `npm pack` checks the tarball against the registry's integrity hash.
npm pack --silent "uplot@$VERSION" >/dev/null
TARBALL="uplot-$VERSION.tgz"
tar -xzf "$TARBALL"
INTEGRITY="$(npm view "uplot@$VERSION" dist.integrity 2>/dev/null)"

mkdir -p "$DEST"
cp package/dist/uPlot.iife.min.js "$DEST/uPlot.iife.min.js"
cp package/dist/uPlot.min.css "$DEST/uPlot.min.css"
cp package/LICENSE "$DEST/LICENSE-uPlot.txt"
cat > "$DEST/VERSION.txt" <<NOTE
uPlot $VERSION (MIT), https://github.com/leeoniya/uPlot
source: https://registry.npmjs.org/uplot/-/$TARBALL
integrity: $INTEGRITY
files: dist/uPlot.iife.min.js, dist/uPlot.min.css, LICENSE (unchanged)
refresh: scripts/vendor-dashboard.sh
NOTE
echo "vendored uPlot $VERSION into ${DEST#"$ROOT"/}"
