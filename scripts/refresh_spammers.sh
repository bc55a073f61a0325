#!/usr/bin/env bash
# Refreshes src/footfall/ingest/enrich/data/referrer-spammers.txt from Matomo's
# referrer-spam list (public domain), the list Plausible drops tracker events by.
# Needs network access to GitHub; commit the result with the upstream commit in
# the message and in data/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/footfall/ingest/enrich/data/referrer-spammers.txt
url=https://raw.githubusercontent.com/matomo-org/referrer-spam-list/master/spammers.txt
tmp=$(mktemp)
curl -fsSL "$url" | tr 'A-Z' 'a-z' | tr -d ' \t\r' | grep -v '^$' >"$tmp"
# One domain per line, nothing else: refuse anything odd rather than ship it.
if grep -vqE '^[a-z0-9.-]+$' "$tmp"; then
    echo "unexpected lines in the upstream list:" >&2
    grep -vnE '^[a-z0-9.-]+$' "$tmp" | head >&2
    exit 1
fi
sort -u "$tmp" -o "$out"
rm -f "$tmp"
echo "$(wc -l <"$out") spam domains in $out"
