"""Ground truth: whose device is whose, read from ``truth.jsonl.gz``.

The world knows what no engine can: the phone on the kitchen table is
Mason's, the TV belongs to the household, and Susan signed in on her laptop
as ``u-17``. Each line of the truth file says so for one device. This module
is the one reading of those lines, and the one answer to "who owns this
device (or this login)?" that scoring, the report and ``hopsim compare`` use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.errors import HopsimError


class TruthError(HopsimError):
    """A truth line lacks what every truth line has (the caller adds file and line)."""


@dataclass(frozen=True)
class TruthDevice:
    """One line of ``truth.jsonl.gz``: a device and the person (or household) it belongs to."""

    device_id: str
    device_type: str
    person_id: str | None
    household_id: str | None
    persona: str | None
    user_ids: tuple[str, ...] = ()
    also_used_by: tuple[str, ...] = ()  # people besides the owner who ever used it

    @property
    def owner(self) -> str:
        """The true person, or ``household:<id>`` for a shared TV or speaker."""
        return self.person_id if self.person_id else f"household:{self.household_id}"


def truth_device(row: Mapping[str, Any]) -> TruthDevice:
    """A truth line as a :class:`TruthDevice`; :class:`TruthError` when it is not one."""
    device_id = row.get("device_id")
    device_type = row.get("device_type")
    if not isinstance(device_id, str) or not isinstance(device_type, str):
        raise TruthError("expected string keys 'device_id' and 'device_type'")
    return TruthDevice(
        device_id=device_id,
        device_type=device_type,
        person_id=_str_or_none(row.get("person_id")),
        household_id=_str_or_none(row.get("household_id")),
        persona=_str_or_none(row.get("persona")),
        user_ids=tuple(str(user) for user in row.get("user_ids") or []),
        also_used_by=tuple(str(person) for person in row.get("also_used_by") or []),
    )


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass
class Owners:
    """Who owns each device and each login, as the truth file tells it."""

    devices: dict[str, TruthDevice] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)  # userId -> person (personal devices)

    def add(self, device: TruthDevice) -> None:
        self.devices[device.device_id] = device
        if device.person_id is not None:
            for user in device.user_ids:
                self.users.setdefault(user, device.person_id)

    def owner(self, device_id: str) -> str | None:
        """The person (or ``household:<id>``) owning ``device_id``; ``None`` if unknown."""
        device = self.devices.get(device_id)
        return None if device is None else device.owner

    def person(self, device_id: str | None, user_id: object = None) -> str | None:
        """The person behind an event: its personal device's owner, else its login's."""
        device = self.devices.get(device_id) if device_id is not None else None
        if device is not None and device.person_id is not None:
            return device.person_id
        return self.users.get(user_id) if isinstance(user_id, str) else None


def owners(devices: Iterable[TruthDevice]) -> Owners:
    """The owner index of a run's truth devices."""
    index = Owners()
    for device in devices:
        index.add(device)
    return index


def owners_of_rows(rows: Iterable[Mapping[str, Any]]) -> Owners:
    """:func:`owners` straight from truth lines (already checked by whoever wrote them)."""
    return owners(truth_device(row) for row in rows)


def owners_of(truth: Owners | Iterable[Mapping[str, Any]]) -> Owners:
    """The owner index of ``truth``: its lines indexed, or the index itself when a caller
    that asks several readers (a shard's finish) made it once for all of them."""
    # NOTE: an index handed over is used as is, not rebuilt per reader (tests/trace/test_reader.py).
    return truth if isinstance(truth, Owners) else owners_of_rows(truth)
