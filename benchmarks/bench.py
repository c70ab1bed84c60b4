"""Speed and memory of stackgen against its goals; `make bench` runs it.

Measured on the machine it runs on, never as timed assertions in the test suite:

  ratios   CPU time of cold CLI runs against `python -c pass`, paired (the two alternate,
           and the median of the per-pair ratios is reported), so machine noise cancels.
           A new process each time, with stackgen's cache (stackgen.cache) as a second run
           finds it, in a fresh folder: help and list output, parsed inputs, templates. The
           last row is the same build with caches off, for comparison (no goal).
  fleets   build + all five targets in-process for synthetic fleets of N runners on N/10
           nodes (benchmarks/fleet.py), each run in a fresh process: CPU seconds, peak RSS
           and growth per 10x with warm caches (as a repeated build finds them), and the
           CPU seconds with caches off

BENCH_SIZES="10 100 1000 10000" adds the largest fleet (about a minute); BENCH_PAIRS sets
the number of pairs. Exit status 1 if a goal is missed.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PYTHON = sys.executable
BIN = str(Path(PYTHON).parent / "stackgen")
HERE = Path(__file__).resolve().parent
PAIRS = int(os.environ.get("BENCH_PAIRS", "9"))
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "10 100 1000").split()]

# (label, command, goal as a ratio to `python -c pass`); `env` costs about what it saves
# (exec of the same binary) and keeps the caches-off row a single command
COMMANDS: list[tuple[str, list[str], float | None]] = [
    ("stackgen --help", [BIN, "--help"], 3.0),
    ("stackgen list", [BIN, "list"], 4.0),
    ("build preproc --target swarm -o DIR", [BIN, "build", "preproc", "--target", "swarm", "-o", "out"], 6.5),
    ("build bids preproc self-signed-certs --target swarm",
     [BIN, "build", "bids", "preproc", "self-signed-certs", "--target", "swarm", "-o", "out3"], 8.0),
    ("  the same, caches off", ["env", "STACKGEN_CACHE_DIR=", BIN, "build", "bids", "preproc",
                                "self-signed-certs", "--target", "swarm", "-o", "out3"], None),
]
GOALS = {"cpu_1000_s": 1.0, "growth_10k": 11.0, "rss_10k_mb": 150.0}


def cpu_of(cmd: list[str], cwd: str) -> float:
    """CPU seconds (user + system) of one child process run to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def ratios(cwd: str) -> list[tuple[str, float, float, float | None]]:
    baseline = [PYTHON, "-c", "pass"]
    rows = []
    for label, cmd, goal in COMMANDS:
        cpu_of(cmd, cwd)  # fills the cache, as any earlier run would have
        pairs = [(cpu_of(cmd, cwd), cpu_of(baseline, cwd)) for _ in range(PAIRS)]
        ratio = statistics.median(a / b for a, b in pairs)
        rows.append((label, statistics.median(a for a, _ in pairs) * 1000, ratio, goal))
    return rows


def fleet(size: int, cache: str) -> dict[str, float]:
    """One measured run in a fresh process, with the cache folder `cache` ("": caches off)."""
    out = subprocess.run([PYTHON, str(HERE / "fleet.py"), "run", str(size)], check=True,
                         capture_output=True, text=True, env={**os.environ, "STACKGEN_CACHE_DIR": cache})
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def fleet_runs(size: int, cache: str) -> dict[str, float]:
    """Warm caches (a run before fills them, as any earlier build would have; the median of
    three runs), and the CPU time of one run with caches off."""
    fleet(size, cache)
    runs = [fleet(size, cache) for _ in range(3 if size <= 1000 else 1)]
    warm = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    warm["cold_cpu_s"] = fleet(size, "")["cpu_s"]
    return warm


def compile_package() -> None:
    """Byte-compile stackgen as `pip install` does: with PYTHONDONTWRITEBYTECODE set (as on
    CI machines), an editable install would otherwise recompile every module on every run."""
    import compileall

    compileall.compile_dir(str(HERE.parent / "stackgen"), quiet=1)


def main() -> int:
    print(f"machine: {os.cpu_count()} cores, {sys.platform}, Python {sys.version.split()[0]}")
    compile_package()
    missed: list[str] = []
    with tempfile.TemporaryDirectory() as cwd:
        os.environ["STACKGEN_CACHE_DIR"] = str(Path(cwd) / "cache")
        (Path(cwd) / "stackgen.yaml").write_text(
            (HERE.parent / "examples/example-site/stackgen.yaml").read_text())
        (Path(cwd) / "certs").mkdir()
        (Path(cwd) / "certs/example-ca.crt").write_text(
            (HERE.parent / "examples/example-site/certs/example-ca.crt").read_text())
        print(f"\ncold CLI runs, CPU time vs `python -c pass` ({PAIRS} pairs, medians)")
        print(f"  {'command':<55} {'CPU ms':>8} {'ratio':>7} {'goal':>6}")
        for label, ms, ratio, goal in ratios(cwd):
            if goal is None:
                print(f"  {label:<55} {ms:8.0f} {ratio:6.1f}x")
                continue
            flag = "" if ratio <= goal else "  over"
            print(f"  {label:<55} {ms:8.0f} {ratio:6.1f}x {goal:5.1f}x{flag}")
            if ratio > goal:
                missed.append(label)
        print("\nfleets: build + all five targets in-process, a fresh process per run; CPU s and")
        print("peak RSS with warm caches (medians), and CPU s with caches off")
        print(f"  {'runners':>8} {'files':>7} {'CPU s':>8} {'peak RSS MB':>12} {'x per 10x':>10}"
              f" {'caches off':>11}")
        results: dict[int, dict[str, float]] = {}
        for size in SIZES:
            results[size] = r = fleet_runs(size, str(Path(cwd) / f"cache-{size}"))
            prev = results.get(size // 10)
            growth = f"{r['cpu_s'] / prev['cpu_s']:9.1f}x" if prev else ""
            print(f"  {size:8d} {int(r['files']):7d} {r['cpu_s']:8.2f} {r['peak_rss_mb']:12.0f}"
                  f" {growth:>10} {r['cold_cpu_s']:11.2f}")
    if 1000 in results and results[1000]["cpu_s"] > GOALS["cpu_1000_s"]:
        missed.append("1,000 runners")
    if 10000 in results:
        if results[10000]["cpu_s"] / results[1000]["cpu_s"] > GOALS["growth_10k"]:
            missed.append("10,000/1,000 growth")
        if results[10000]["peak_rss_mb"] > GOALS["rss_10k_mb"]:
            missed.append("10,000 runners memory")
    print("\ngoals: " + ", ".join(f"{k} <= {v:g}" for k, v in GOALS.items()))
    if missed:
        print("missed: " + ", ".join(missed))
        return 1
    print("all goals met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
