"""Shared set-up for the serve tests: a small real filesystem that can fill up."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_tmpfs(where: Path, size_kb: int = 256) -> Iterator[Path]:
    """A tmpfs of ``size_kb`` mounted at ``where`` (skips the test when it cannot mount)."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs to fill the disk needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs at {where}: {done.stderr.strip() or done.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(directory: Path, keep_bytes: int = 0) -> Path:
    """Write a filler file until the filesystem refuses (ENOSPC); ``keep_bytes`` freed after."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    block = b"\0" * 4096
    try:
        while True:
            os.write(fd, block)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    if keep_bytes:
        size = filler.stat().st_size
        os.truncate(filler, max(0, size - keep_bytes))
    return filler


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KB tmpfs, empty; :func:`fill` it to make every append fail with ENOSPC."""
    with small_tmpfs(tmp_path / "disk") as disk:
        yield disk
