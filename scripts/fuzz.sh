#!/usr/bin/env bash
# Builds the fuzz targets and runs each for a fixed number of executions
# (docs/fuzzing.md): the libFuzzer targets of cpp/fuzz with ASan and UBSan,
# seeded from the conformance streams, and the atheris target of the Python
# decode path. Any finding fails the script (libFuzzer exits non-zero and
# writes the input as crash-*/leak-*/timeout-* in the current folder).
#   bash scripts/fuzz.sh [RUNS] [ATHERIS_RUNS]     # CI: 20000 and 300
# Needs clang with libFuzzer (Debian: clang libclang-rt-14-dev) and, for the
# Python target, atheris and FTM installed in the python3 on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20000}"
atheris_runs="${2:-300}"
build=build/fuzz
say() { printf '==> %s\n' "$*" >&2; }

say "fuzz targets: building with clang, ASan and UBSan ($build)"
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFTM_BUILD_FUZZERS=ON -DFTM_SANITIZE=address,undefined >/dev/null
cmake --build "$build" --target fuzz_container fuzz_level_decoder

seeds="$build/seeds"
rm -rf "$seeds"
python3 cpp/fuzz/make_seeds.py "$seeds"
for target in container level_decoder; do
  corpus="$build/corpus/$target"
  mkdir -p "$corpus"
  say "fuzz_$target: $runs executions"
  # -timeout: one execution may take 10 s under the sanitizers; -rss_limit_mb: libFuzzer's own 2 GB cap, stated
  "$build/fuzz_$target" -runs="$runs" -dict=cpp/fuzz/ftm.dict -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$corpus" "$seeds/$target" 2>&1 | tail -n 12
done

if python3 -c "import atheris" 2>/dev/null; then
  say "fuzz/fuzz_decode.py (atheris, the Python decode path): $atheris_runs executions"
  mkdir -p "$build/corpus/decode"
  python3 fuzz/fuzz_decode.py -runs="$atheris_runs" -dict=cpp/fuzz/ftm.dict -timeout=60 -print_final_stats=1 \
    "$build/corpus/decode" "$seeds/container" 2>&1 | grep -v '^INFO: Instrumenting' | tail -n 12
else
  echo "scripts/fuzz.sh: atheris is not installed (pip install atheris); the Python target was not run" >&2
  exit 1
fi
