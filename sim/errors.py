"""Errors a user can act on: each names the file, the key and what was expected."""

from __future__ import annotations


class HopsimError(Exception):
    """Base class of every error hopsim reports to a user."""


class ConfigError(HopsimError):
    """A persona or scenario file is wrong. Holds every problem found, not just the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))
