"""``hopsim personas``: list the persona archetypes and their devices."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("personas", help="list personas and their devices")
    parser.add_argument("--dir", type=Path, default=Path("personas"), help="persona folder")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.errors import HopsimError
    from sim.world.persona import load_personas

    if not args.dir.is_dir():
        raise HopsimError(f"{args.dir}: expected a folder of persona TOML files")
    for name, persona in load_personas(args.dir).items():
        devices = ", ".join(
            f"{d.type}{'(shared)' if d.shared else ''}:{d.model}" for d in persona.devices
        )
        print(f"{name:<12} {persona.display_name:<14} {persona.summary}")
        print(f"{'':<12} devices: {devices}")
    return 0
