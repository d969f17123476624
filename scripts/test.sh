#!/usr/bin/env bash
# FTM's whole test suite: the C++ tests (CTest, against the core library
# alone) and the Python tests (pytest, against the installed package).
# Installs what is missing first: system packages (scripts/install-system-deps.sh)
# and the package with its test, extraction and ctc extras.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
python3 -m pip install --quiet ".[test,extract,ctc]"

cmake -S . -B build/cpp-tests -DFTM_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Release
cmake --build build/cpp-tests --parallel
ctest --test-dir build/cpp-tests --output-on-failure

python3 -m pytest "$@"
