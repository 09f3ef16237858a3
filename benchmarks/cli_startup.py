"""How long the CLI takes to start (issue #19: `trustdesk --help` <= 0.5 s).

Each figure is the median wall time of `--runs` fresh processes, printed beside two baselines
measured in the same run: a bare interpreter that imports only typer (the floor: what any
Typer CLI costs), and the eager import of every command module and the server's routes (what
the root did before the commands were loaded lazily, so the ratio shows what was saved).

    .venv/bin/python benchmarks/cli_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

TRUSTDESK = str(Path(sys.executable).with_name("trustdesk"))
EAGER = (
    "import trustdesk.cli.db, trustdesk.cli.users, trustdesk.cli.tokens, trustdesk.cli.audit, trustdesk.cli.demo, "
    "trustdesk.cli.settings, trustdesk.cli.lawful_requests, trustdesk.cli.pipeline, trustdesk.cli.transparency, "
    "trustdesk.cli.banks, trustdesk.cli.disclosure, trustdesk.cli.legal_policy, trustdesk.cli.emergency, "
    "trustdesk.cli.matrix; from trustdesk.web.app import route_templates; route_templates()"
)
CASES = {
    "floor: python -c 'import typer'": [sys.executable, "-c", "import typer"],
    "trustdesk --help": [TRUSTDESK, "--help"],
    "trustdesk requests --help": [TRUSTDESK, "requests", "--help"],
    "trustdesk banks --help (numba, faiss)": [TRUSTDESK, "banks", "--help"],
    "before: every command module imported": [sys.executable, "-c", EAGER],
}


def median_seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, timeout=300)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    figures = {name: median_seconds(command, args.runs) for name, command in CASES.items()}
    before = figures["before: every command module imported"]
    print(f"{'command':44} {'median s':>9} {'vs before':>10}")
    for name, seconds in figures.items():
        print(f"{name:44} {seconds:9.3f} {before / seconds:9.1f}x")
    goal = figures["trustdesk --help"] <= 0.5
    print(f"goal trustdesk --help <= 0.5 s: {'met' if goal else 'NOT met'}")
    sys.exit(0 if goal else 1)


if __name__ == "__main__":
    main()
