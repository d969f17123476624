#!/usr/bin/env bash
# FTM's whole test suite: the C++ tests (CTest, against the core library
# alone) and the Python tests (pytest, against the installed package).
# Needs a C++17 compiler, CMake and GoogleTest (Debian: libgtest-dev);
# `bash .ci/run` installs those first on a bare Debian machine.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet ".[test,extract]"

cmake -S . -B build/cpp-tests -DFTM_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Release
cmake --build build/cpp-tests --parallel
ctest --test-dir build/cpp-tests --output-on-failure

python3 -m pytest "$@"
