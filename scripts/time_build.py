"""Compile time of each translation unit of a CMake build, and of a clean build.

    python scripts/time_build.py BUILD_DIR [--repeat 3] [--clean-builds 3]

BUILD_DIR must have been configured with Ninja and
-DCMAKE_EXPORT_COMPILE_COMMANDS=ON and built once (the link step needs every
object). Each compile command runs alone, `--repeat` times, and the fastest
run counts; the link of each shared module is timed the same way (with
pybind11's LTO, code generation happens there). CPU seconds (user + system)
are what a compile costs whatever else the machine runs; wall seconds show
the waiting. Then `--clean-builds` times `cmake --build BUILD_DIR -j2` from
clean and reports the fastest. Before each run the script waits, up to a
minute (--patience), for the one-minute load average to drop below 1, so that other work
on a shared machine skews the figures less. docs/building.md has the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import time
from pathlib import Path


PATIENCE = 60.0


def wait_for_quiet(limit: float = 1.0) -> None:
    deadline = time.monotonic() + PATIENCE
    while os.getloadavg()[0] >= limit and time.monotonic() < deadline:
        time.sleep(2)


def best_time(command: str, cwd: str, repeat: int) -> tuple[float, float]:
    """Fastest (cpu, wall) seconds of `repeat` runs of a shell command."""
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        wait_for_quiet()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, shell=True, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        best_cpu, best_wall = min(best_cpu, cpu), min(best_wall, wall)
    return best_cpu, best_wall


def link_commands(build: Path) -> list[tuple[str, str]]:
    """(output, command) of every link step ninja knows for a shared module."""
    text = subprocess.run(["ninja", "-C", str(build), "-t", "commands"], check=True, capture_output=True, text=True).stdout
    links = []
    for line in text.splitlines():
        words = shlex.split(line)
        if "-shared" in words and "-o" in words:
            links.append((words[words.index("-o") + 1], line))
    return links


def main() -> None:
    global PATIENCE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clean-builds", type=int, default=0)
    parser.add_argument("--patience", type=float, default=PATIENCE, help="seconds to wait for a quiet machine")
    args = parser.parse_args()
    PATIENCE = args.patience
    entries = json.loads((args.build / "compile_commands.json").read_text())
    print(f"{'cpu_s':>7} {'wall_s':>7}  step")
    total = 0.0
    for e in entries:
        cpu, wall = best_time(e["command"], e["directory"], args.repeat)
        total += cpu
        print(f"{cpu:7.2f} {wall:7.2f}  {os.path.relpath(e['file'], Path(e['file']).parents[2])}", flush=True)
    for output, command in link_commands(args.build):
        cpu, wall = best_time(command, str(args.build), args.repeat)
        total += cpu
        print(f"{cpu:7.2f} {wall:7.2f}  link {output}", flush=True)
    print(f"{total:7.2f} {'':7}  every step, one after the other")
    if args.clean_builds:
        build = f"cmake --build {shlex.quote(str(args.build))} --target clean && cmake --build {shlex.quote(str(args.build))} -j2"
        cpu, wall = best_time(build, ".", args.clean_builds)
        print(f"{cpu:7.2f} {wall:7.2f}  clean build, -j2")


if __name__ == "__main__":
    main()
