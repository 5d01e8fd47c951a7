#!/usr/bin/env bash
# fuzz-gherkin.sh: builds tests/fuzz/fuzz_gherkin.c with clang libFuzzer + ASan/UBSan
# straight from the sources (no CMake) and fuzzes the Gherkin parser for SECONDS seconds
# (default 60), one job, corpus seeded from the shared conformance feature files.
# Crashing inputs land in tests/unit/data/gherkin-fuzz/ (kept as regression tests).
# usage: scripts/fuzz-gherkin.sh [SECONDS] [WORKDIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
work=${2:-$root/build-fuzz-gherkin}
shared=${TF_SHARED_DIR:-$root/../shared}
mkdir -p "$work/corpus" "$root/tests/unit/data/gherkin-fuzz"
flags=$(pkg-config --cflags --libs glib-2.0 jansson)
# shellcheck disable=SC2086
clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/tf" -I"$root/tf/include" \
  "$root"/tests/fuzz/fuzz_gherkin.c "$root"/tf/gherkin/*.c "$root"/tf/util/error.c \
  $flags -o "$work/fuzz_gherkin"
cp -n "$shared"/gherkin/testdata/*/*.feature "$work/corpus/" 2>/dev/null || true
cp -n "$root"/tests/unit/data/gherkin-fuzz/* "$work/corpus/" 2>/dev/null || true
cd "$work"
"$work/fuzz_gherkin" -max_total_time="$secs" -jobs=1 -workers=1 -max_len=4096 \
  -artifact_prefix="$root/tests/unit/data/gherkin-fuzz/" -print_final_stats=1 corpus
