"""Resident memory of a run: this process and every process it started.

A run's memory is spread over processes: the runner, its worker processes
(or a local cluster's), the merge. The figure that matters on a
machine is their sum, so that is the one measured here, for the progress
bar and the benchmarks alike.
"""

from __future__ import annotations

import os

import psutil


def tree_rss(pid: int | None = None) -> int:
    """Resident bytes of process ``pid`` (default: this one) and all its descendants."""
    try:
        root = psutil.Process(os.getpid() if pid is None else pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:  # gone between listing and asking
            continue
    return total
