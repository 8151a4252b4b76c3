"""What several commands share: checking the scenario overrides."""

from __future__ import annotations

import argparse


def check_overrides(args: argparse.Namespace) -> None:
    """Refuse impossible overrides before any work starts, naming the option."""
    from sim.errors import HopsimError

    if args.persons is not None and args.persons < 1:
        raise HopsimError("--persons: expected a whole number >= 1")
    if args.days is not None and not 1 <= args.days <= 366:
        raise HopsimError("--days: expected a whole number between 1 and 366")
    if args.workers is not None and args.workers < 1:
        raise HopsimError("--workers: expected a whole number >= 1")
