"""Speed and memory of stackgen against its targets; `make bench` runs it.

Budgets are for a 2-core CI machine. They are checked here, never as timed assertions in
the test suite. Exit status 1 if a budget is exceeded.

  start-up   `stackgen --help` (Make targets and pre-commit hooks pay this every call)
  build      `stackgen build bids preproc self-signed-certs --target T --stdout`, per target
  render     in-process compose + render of the composed set, per target
  memory     peak RSS of the largest CLI build
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent / "stackgen"
PROFILES = ["bids", "preproc", "self-signed-certs"]
BUDGETS = {"startup_s": 0.25, "build_s": 1.0, "render_ms": 60.0, "peak_rss_mb": 120.0}
RUNS = 7


def wall(cmd: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    from stackgen.targets import TARGETS

    failures = []
    rows = []
    with tempfile.TemporaryDirectory() as cwd:
        startup = statistics.median(wall([str(BIN), "--help"], cwd) for _ in range(RUNS))
        rows.append(("start-up: stackgen --help", f"{startup * 1000:.0f} ms", BUDGETS["startup_s"] * 1000))
        if startup > BUDGETS["startup_s"]:
            failures.append("start-up")
        for target in TARGETS:
            cmd = [str(BIN), "build", *PROFILES, "--target", target, "--stdout"]
            took = statistics.median(wall(cmd, cwd) for _ in range(3))
            rows.append((f"build --target {target}", f"{took * 1000:.0f} ms", BUDGETS["build_s"] * 1000))
            if took > BUDGETS["build_s"]:
                failures.append(f"build {target}")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows.append(("peak RSS of a CLI run", f"{peak:.0f} MB", BUDGETS["peak_rss_mb"]))
        if peak > BUDGETS["peak_rss_mb"]:
            failures.append("memory")

    import stackgen

    stackgen.generate(PROFILES, "config-toml")  # warm imports
    for target in TARGETS:
        start = time.perf_counter()
        for _ in range(20):
            stackgen.generate(PROFILES, target)
        per = (time.perf_counter() - start) / 20 * 1000
        rows.append((f"render in-process {target}", f"{per:.1f} ms", BUDGETS["render_ms"]))
        if per > BUDGETS["render_ms"]:
            failures.append(f"render {target}")

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'result':>10}  budget")
    for name, result, budget in rows:
        print(f"{name:<{width}}  {result:>10}  {budget:g}")
    if failures:
        print("over budget: " + ", ".join(failures))
        return 1
    print("all within budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
