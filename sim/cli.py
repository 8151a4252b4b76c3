"""The ``hopsim`` command: one sub-command per module in ``sim.commands``.

Each module exposes ``register(subparsers)``; heavy imports stay inside the
command's own function so ``hopsim --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sim import __version__
from sim.errors import HopsimError

COMMANDS = (
    "run",
    "compare",
    "serve",
    "loadtest",
    "report",
    "personas",
    "validate",
    "export",
    "score",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hopsim", description="Cross-device persona simulator and load-test harness."
    )
    parser.add_argument("--version", action="version", version=f"hopsim {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"sim.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except HopsimError as exc:
        print(f"hopsim {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hopsim {args.command}: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
