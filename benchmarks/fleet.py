"""A synthetic fleet of N runners on N/10 nodes, and one measured build of it.

    python benchmarks/fleet.py write N DIR   # DIR/stackgen.yaml and DIR/profiles/fleet.yaml
    python benchmarks/fleet.py run N         # build + all five targets in-process; prints JSON

`run` reports the CPU seconds of the build and render alone (imports excluded) and the
process's peak RSS, so `bench.py` can run each size in a fresh process.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

# Varied enough to exercise every target: data mounts, devices, services, environment.
IMAGES = ("debian:bookworm-slim", "alpine:3.20", "python:3.12-slim-bookworm")


def site_text(nodes: int) -> str:
    lines = ["name: bench", "gitlab: {url: https://gitlab.example.org}",
             "registry: harbor.example.org", "data: {scratch: /srv/scratch}", "nodes:"]
    for i in range(nodes):
        lines.append(f"  n{i:05d}: {{hostname: n{i:05d}.example.org, labels: {{pool: p{i % 7}}}}}")
    lines.append("default_node: n00000")
    return "\n".join(lines) + "\n"


def profile_text(runners: int, nodes: int) -> str:
    lines = ["description: synthetic fleet for benchmarks", "runners:"]
    for i in range(runners):
        lines += [
            f"  r{i:05d}:",
            f"    tags: [t{i % 13}, bench]",
            f"    node: n{i % nodes:05d}",
            f"    image: {IMAGES[i % len(IMAGES)]}",
            "    volumes: [{data: scratch, target: /scratch, read_only: true}]",
            f"    environment: {{JOBS: \"{i % 5}\", LANG: C.UTF-8}}",
        ]
        if i % 4 == 0:
            lines.append("    services: [{name: \"redis:7\", alias: cache}]")
    lines += ["waivers:", "  host-paths: Benchmark runners read a shared scratch area."]
    return "\n".join(lines) + "\n"


def write(runners: int, folder: Path) -> None:
    from stackgen.layers.inputs import example_site_path

    nodes = max(1, runners // 10)
    (folder / "profiles").mkdir(parents=True, exist_ok=True)
    ca = (example_site_path().parent / "certs" / "example-ca.crt").read_text()
    (folder / "ca.crt").write_text(ca)
    (folder / "stackgen.yaml").write_text(
        site_text(nodes)
        + "certificates: {ca: {file: ca.crt, hosts: [gitlab.example.org, harbor.example.org]}}\n")
    (folder / "profiles" / "fleet.yaml").write_text(profile_text(runners, nodes))


def run(runners: int) -> dict[str, float]:
    import stackgen
    from stackgen.api import render_composition
    from stackgen.targets import TARGETS

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write(runners, folder)
        start = time.process_time()
        composition = stackgen.assemble(["fleet", "self-signed-certs"], site=folder / "stackgen.yaml",
                                        profile_dirs=[folder / "profiles"])
        files = 0
        for target in TARGETS:
            files += len(render_composition(composition, target))
        cpu = time.process_time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"runners": runners, "cpu_s": cpu, "peak_rss_mb": peak, "files": files}


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        print(json.dumps(run(int(sys.argv[2]))))
