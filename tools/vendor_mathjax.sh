#!/usr/bin/env bash
# Refreshes book/_static/mathjax from the npm registry's `mathjax` package, so that the book renders
# math with no internet (Sphinx's default loads MathJax from a CDN). The files are committed; run this
# only to change the MathJax version, then rebuild the book and run tests/test_browser.py.
#
# What is kept, and why:
#   tex-chtml-full.js  TeX input with every TeX extension built in, so nothing is fetched on demand
#   output/chtml/fonts/woff-v2/  the fonts the CHTML output loads, relative to the script's folder
# The accessibility explorer and speech (a11y/, sre/, ~4 MB) are left out: they load only when a
# reader switches them on in MathJax's right-click menu.
set -euo pipefail
VERSION="${1:-3.2.2}"
cd "$(dirname "$0")/.."
dest=book/_static/mathjax
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "mathjax@$VERSION" >/dev/null && tar -xzf "mathjax-$VERSION.tgz")
src="$work/package/es5"

rm -rf "$dest"
mkdir -p "$dest/output/chtml/fonts"
cp "$src/tex-chtml-full.js" "$dest/"
cp -r "$src/output/chtml/fonts/woff-v2" "$dest/output/chtml/fonts/"
cp "$work/package/LICENSE" "$dest/LICENSE"
cat > "$dest/README.md" <<EOF
MathJax $VERSION (Apache-2.0, see LICENSE), from the npm package \`mathjax\`, written by
tools/vendor_mathjax.sh: \`tex-chtml-full.js\` and the CHTML woff-v2 fonts. The book's
\`mathjax_path\` points here, so pages render math without a CDN.
EOF
du -sh "$dest"
