#!/usr/bin/env bash
# What the PDF reports need beyond Python packages (salesradar report ... --format pdf):
#   - WeasyPrint lays text out with Pango (libpango, libpangoft2, HarfBuzz, fontconfig);
#   - a font with Hebrew letters (Noto Sans Hebrew from fonts-noto-core);
#   - poppler-utils (pdftoppm, pdftotext) to look at a rendered PDF as images and text.
# Installs with apt what is missing; does nothing when all is there.
set -euo pipefail

missing=()
libs=$(ldconfig -p 2>/dev/null || true)  # read whole: grep -q on a pipe trips pipefail
fonts=$(fc-list 2>/dev/null || true)
grep -q 'libpango-1.0.so' <<<"$libs" || missing+=(libpango-1.0-0)
grep -q 'libpangoft2-1.0.so' <<<"$libs" || missing+=(libpangoft2-1.0-0)
grep -q 'libharfbuzz-subset.so' <<<"$libs" || missing+=(libharfbuzz-subset0)
grep -qi 'Noto Sans Hebrew' <<<"$fonts" || missing+=(fonts-noto-core fontconfig)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)

if [ ${#missing[@]} -gt 0 ]; then
    echo "PDF reports: installing ${missing[*]}" >&2
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
