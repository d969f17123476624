#!/usr/bin/env bash
# System packages the tests use, installed from Debian/Ubuntu when missing:
#   libgtest-dev       the C++ tests (required)
#   x265               the x265 command-line back end (its tests skip without it)
#   libde265-examples  dec265, an independent HEVC decoder the tests compare against
#   clang, libclang-rt-14-dev  the fuzz targets (libFuzzer) of scripts/fuzz.sh
#   dataset-fashion-mnist  Fashion-MNIST's IDX files in /usr/share/datasets/fashion-mnist: the
#                      default labelled set of the learned vector codecs (ftm.extract.fashion_mnist)
# Does nothing when all are present; needs apt-get and root (or sudo) otherwise.
set -euo pipefail

missing=()
[ -f /usr/include/gtest/gtest.h ] || missing+=(libgtest-dev)
command -v x265 >/dev/null || missing+=(x265)
command -v dec265 >/dev/null || command -v libde265-dec265 >/dev/null || missing+=(libde265-examples)
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
command -v clang++ >/dev/null || missing+=(clang)
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 || missing+=(libclang-rt-14-dev)
[ -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ] || missing+=(dataset-fashion-mnist)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "install-system-deps: missing ${missing[*]}; install them as root" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null; then
  echo "install-system-deps: missing ${missing[*]}, and this is not a Debian/Ubuntu system; install GoogleTest (and optionally x265, libde265) yourself" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
