"""Errors a user can act on: each names the file, the key and what was expected."""

from __future__ import annotations


class HopsimError(Exception):
    """Base class of every error hopsim reports to a user."""


class ConfigError(HopsimError):
    """A persona or scenario file is wrong. Holds every problem found, not just the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class Problems:
    """Every problem found in one file, each line naming the file, the key and what was expected.

    A checker reads on past a bad value (using a default) and notes the
    problem here, so a person fixing a file sees the whole list at once:
    ``scenarios/x.toml: campaigns[0].caps.total: expected a whole number >= 1, got 0``.
    ``where`` is the file, ``prefix`` is put before every key (``[identity].``),
    and several checkers may share one list of ``problems``.
    """

    def __init__(self, where: str, prefix: str = "", problems: list[str] | None = None) -> None:
        self.where = where
        self.prefix = prefix
        self.problems: list[str] = [] if problems is None else problems

    def fail(self, key: str, expected: str, got: object = None) -> None:
        """``key`` is not what was ``expected`` (``got`` is shown unless it is ``None``)."""
        shown = "" if got is None else f", got {got!r}"
        self.say(key, f"expected {expected}{shown}")

    def say(self, key: str, text: str) -> None:
        """A problem with ``key`` in words of its own (``unknown rule; expected one of ...``)."""
        self.problems.append(f"{self.where}: {self.prefix}{key}: {text}")

    def raise_if_any(self) -> None:
        """Raise :class:`ConfigError` with every problem noted, if there is one."""
        if self.problems:
            raise ConfigError(self.problems)
