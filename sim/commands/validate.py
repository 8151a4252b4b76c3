"""``hopsim validate FILE...``: check persona and scenario files, naming every problem."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("validate", help="check persona or scenario TOML files")
    parser.add_argument("files", type=Path, nargs="+", help="persona or scenario files")
    parser.set_defaults(func=handle)


def kind_of(data: dict[str, Any]) -> str:
    """A persona has devices; a scenario has people or households."""
    return "persona" if "devices" in data or "routine" in data else "scenario"


def check(path: Path) -> list[str]:
    from sim.analysis.metrics_config import metrics_config
    from sim.errors import ConfigError
    from sim.world.persona import parse_persona
    from sim.world.scenario import load_scenario
    from sim.world.schema import load_toml

    try:
        data = load_toml(path)
        if kind_of(data) == "persona":
            parse_persona(data, path)
        else:
            metrics_config(load_scenario(path))
    except ConfigError as exc:
        return exc.problems
    return []


def handle(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        problems = check(path)
        if problems:
            failed += 1
            print(f"{path}: {len(problems)} problem(s)")
            for problem in problems:
                print(f"  {problem}")
        else:
            print(f"{path}: ok")
    return 1 if failed else 0
