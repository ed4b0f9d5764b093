#!/usr/bin/env bash
# Rebuild assets/vendor/plotly-rnnx.min.js (needs node and npm; run after upgrading plotly).
# The plotly.js version must match the one the installed plotly Python package bundles.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version="$(python3 -c 'import re, plotly, pathlib; p = pathlib.Path(plotly.__file__).parent / "package_data" / "plotly.min.js"; print(re.search(r"plotly\.js v([0-9.]+)", p.read_text()[:400]).group(1))')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/entry.js" "$work/"
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "plotly.js@$version" esbuild@0.25 buffer@6 >/dev/null
npx esbuild entry.js --bundle --minify --format=iife --global-name=Plotly --define:global=window \
  --legal-comments=eof \
  --banner:js="/* plotly.js v$version, Copyright 2012-2026 Plotly, Inc., MIT license. Partial bundle: scatter, scattergl, bar, heatmap. Built by tools/plotly-bundle/build.sh */" \
  --outfile="$work/out/plotly-rnnx.min.js" --log-level=warning
# only the script: the CSS esbuild collects (map styles) is for traces this build leaves out
cp "$work/out/plotly-rnnx.min.js" "$root/assets/vendor/plotly-rnnx.min.js"
echo "built assets/vendor/plotly-rnnx.min.js for plotly.js $version"
