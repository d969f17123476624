#!/usr/bin/env bash
# FTM's whole test suite: the C++ tests (CTest, against the core library
# alone) and the Python tests (pytest, against the installed package).
# Installs what is missing first, saying what each long step does:
#   - system packages (scripts/install-system-deps.sh);
#   - torch, when no torch is installed: FTM_TORCH (default torch==2.13.0)
#     from FTM_TORCH_INDEX (default: pip's own index). A build that would
#     pull NVIDIA's CUDA packages is refused before anything is downloaded:
#     on a machine whose index serves the CUDA build, point FTM_TORCH_INDEX
#     at a CPU index (https://download.pytorch.org/whl/cpu) or install the
#     torch you want first; an installed torch is always kept;
#   - the package with its test, extract, ctc, fuzz, detect and learned extras
#     (detect: TensorFlow, ~600 MB; learned: faiss-cpu for PQ/OPQ).
# Then: the C++ tests, the C++ tests again under ASan and UBSan, each fuzz
# target for a short fixed number of executions (scripts/fuzz.sh; set
# FTM_FUZZ_RUNS=0 to skip it), and pytest.
# Arguments go to pytest (bash scripts/test.sh -x -k streams).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$jobs}"  # no more compilers than cores
say() { printf '==> %s\n' "$*" >&2; }
started=$SECONDS
elapsed() { printf '    done in %d s\n' $((SECONDS - started)) >&2; started=$SECONDS; }

say "system packages GoogleTest, x265, dec265, cmake, g++, clang with libFuzzer, Fashion-MNIST: checking (apt-get installs what is missing, ~1-2 min)"
bash scripts/install-system-deps.sh
elapsed

if ! python3 -c "import torch" 2>/dev/null; then
  spec="${FTM_TORCH:-torch==2.13.0}"
  index=()
  [ -n "${FTM_TORCH_INDEX:-}" ] && index=(--index-url "$FTM_TORCH_INDEX")
  say "torch: $spec${FTM_TORCH_INDEX:+ from $FTM_TORCH_INDEX} (the CPU build; ~1-3 min to download and install)"
  # resolve first, download nothing: refuse a build that brings NVIDIA's packages
  report=$(python3 -m pip install --dry-run --quiet --report - "${index[@]}" "$spec") || {
    echo "scripts/test.sh: pip cannot resolve '$spec' (see above); set FTM_TORCH / FTM_TORCH_INDEX" >&2
    exit 1
  }
  if printf '%s' "$report" | python3 -c "import json, sys; r = json.load(sys.stdin)
sys.exit(0 if any(i['metadata']['name'].lower().startswith('nvidia-') for i in r['install']) else 1)"; then
    echo "scripts/test.sh: '$spec' from this pip index is a CUDA build (it pulls NVIDIA's packages, several GB);" \
         "set FTM_TORCH_INDEX=https://download.pytorch.org/whl/cpu (or FTM_TORCH) for a CPU build, or install torch first" >&2
    exit 1
  fi
  python3 -m pip install --quiet "${index[@]}" "$spec"
  elapsed
fi

say "FTM with its test, extract, ctc, fuzz, detect and learned extras (pip; compiles the C++ extension with $CMAKE_BUILD_PARALLEL_LEVEL jobs, ~1-4 min)"
python3 -m pip install --quiet ".[test,extract,ctc,fuzz,detect,learned]"
elapsed

say "C++ tests: building (CMake, $jobs jobs, ~1-2 min) and running"
cmake -S . -B build/cpp-tests -DFTM_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/cpp-tests --parallel "$jobs"
ctest --test-dir build/cpp-tests --output-on-failure
elapsed

say "C++ tests under ASan and UBSan (FTM_SANITIZE=address,undefined; ~2-4 min)"
cmake -S . -B build/cpp-sanitize -DFTM_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFTM_SANITIZE=address,undefined >/dev/null
cmake --build build/cpp-sanitize --parallel "$jobs"
ctest --test-dir build/cpp-sanitize --output-on-failure
elapsed

fuzz_runs="${FTM_FUZZ_RUNS:-20000}"
if [ "$fuzz_runs" != 0 ]; then
  say "fuzz targets, $fuzz_runs executions each (scripts/fuzz.sh; ~2-4 min)"
  bash scripts/fuzz.sh "$fuzz_runs" 300
  elapsed
fi

say "Python tests (pytest, ~3-5 min)"
python3 -m pytest "$@"
