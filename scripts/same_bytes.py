"""Check that this working tree writes the same run folder as another git revision.

A refactor promises "same behaviour"; this script holds it to "same bytes".
It checks out REV into a temporary git worktree, runs the same scenario with
the same seed from both trees (with this checkout's virtual environment), and
compares every output file. Timing fields of ``summary.json`` (wall time,
events per second) are the only thing left out.

    .venv/bin/python scripts/same_bytes.py main --persons 300 --days 3
    .venv/bin/python scripts/same_bytes.py HEAD~3 --scenario scenarios/day-in-the-life.toml

Exit status 0 when every file matches, 1 when any differs.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMING = {"wall_seconds", "events_per_second"}
OUTPUTS = (
    "trace.jsonl.gz",
    "truth.jsonl.gz",
    "contexts.jsonl.gz",
    "people.jsonl",
    "journeys.jsonl",
    "profiles.jsonl",
    "messages.jsonl",
    "summary.json",
)


def digest(path: Path) -> str:
    """SHA-256 of a file's content (gzip files decompressed; summary without timings)."""
    if not path.exists():
        return "missing"
    if path.name == "summary.json":
        summary = json.loads(path.read_text())
        for key in TIMING:
            summary.pop(key, None)
        data = json.dumps(summary, sort_keys=True).encode()
    elif path.suffix == ".gz":
        data = gzip.decompress(path.read_bytes())
    else:
        data = path.read_bytes()
    return hashlib.sha256(data).hexdigest()


def run(tree: Path, out: Path, args: argparse.Namespace) -> None:
    """``hopsim run`` with ``tree`` first on the import path."""
    command = [sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main())"]
    command += ["run", str(ROOT / args.scenario), "--out", str(out), "--no-report", "--quiet"]
    for flag in ("persons", "days", "seed", "workers"):
        value = getattr(args, flag)
        if value is not None:
            command += [f"--{flag}", str(value)]
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONHASHSEED="0")
    subprocess.run(command, cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="git revision to compare with (e.g. main, HEAD~1)")
    parser.add_argument("--scenario", default="scenarios/population.toml")
    parser.add_argument("--persons", type=int)
    parser.add_argument("--days", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--workers", type=int)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="same-bytes-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(base), args.rev], cwd=ROOT, check=True
        )
        try:
            run(base, Path(tmp) / "before", args)
            run(ROOT, Path(tmp) / "after", args)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT)
        differ = 0
        for name in OUTPUTS:
            before = digest(Path(tmp) / "before" / name)
            after = digest(Path(tmp) / "after" / name)
            same = before == after
            differ += not same
            print(f"{'same' if same else 'DIFF'}  {name:20} {after[:16]}")
    print("same bytes" if not differ else f"{differ} file(s) differ from {args.rev}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
