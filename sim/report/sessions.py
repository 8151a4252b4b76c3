"""Truth and trace into sessions: one pass over ``trace.jsonl.gz``.

An event belongs to a true person through its device (``truth.person_id``)
or, on a shared device, through its ``userId``. Events of one person on one
device with less than :data:`SESSION_GAP_S` between them form a session.
Only small per-session records are kept, never the events themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sim.report.readers import JsonObject, ReportInputError, iter_jsonl
from sim.trace.clock import epoch_seconds
from sim.trace.truth import TruthDevice, TruthError, owners, truth_device
from sim.trace.vocabulary import ACTED_ON, ARRIVED_SUFFIXES

SESSION_GAP_S = 30 * 60
# A film, a drive or a workout sends an event when it starts and when it ends.
LONG_GAP_S = {"tv": 3 * 3600, "car": 2 * 3600, "watch": 2 * 3600}
ORDER_EVENT = "Order Completed"
CONTEXT_EVENT = "Context Changed"


@dataclass(slots=True)
class Session:
    """Consecutive events of one true person on one device."""

    person_id: str
    device_id: str
    device_type: str
    start: float
    end: float
    timezone: str
    channel: str = "direct"
    events: int = 0
    orders: int = 0
    revenue: float = 0.0
    context: str | None = None


@dataclass(frozen=True, slots=True)
class ContextChange:
    person_id: str
    at: float
    context: str


@dataclass
class TraceTables:
    """Everything the report keeps from the trace."""

    sessions: list[Session] = field(default_factory=list)
    context_changes: list[ContextChange] = field(default_factory=list)
    events: int = 0
    unattributed_events: int = 0
    first_at: float | None = None
    last_at: float | None = None


def read_truth(path: Path) -> dict[str, TruthDevice] | None:
    """``device_id -> TruthDevice`` from ``truth.jsonl.gz``; ``None`` when missing."""
    if not path.is_file():
        return None
    devices: dict[str, TruthDevice] = {}
    for number, record in iter_jsonl(path):
        try:
            device = truth_device(record)
        except TruthError as exc:
            raise ReportInputError(f"{path}: line {number}: {exc}") from exc
        devices[device.device_id] = device
    return devices


def personas(devices: dict[str, TruthDevice]) -> dict[str, str]:
    """``person_id -> persona`` from personal devices."""
    return {
        device.person_id: device.persona or ""
        for device in devices.values()
        if device.person_id is not None
    }


def read_trace(path: Path, devices: dict[str, TruthDevice]) -> TraceTables | None:
    """Sessions and context changes from ``trace.jsonl.gz``; ``None`` when missing."""
    if not path.is_file():
        return None
    builder = _SessionBuilder(devices)
    for number, event in iter_jsonl(path):
        builder.add(path, number, event)
    return builder.finish()


class _SessionBuilder:
    def __init__(self, devices: dict[str, TruthDevice]) -> None:
        self.devices = devices
        self.owners = owners(devices.values())
        self.open: dict[tuple[str, str], Session] = {}
        self.tables = TraceTables()

    def add(self, path: Path, number: int, event: JsonObject) -> None:
        at = _timestamp(path, number, event)
        tables = self.tables
        tables.events += 1
        tables.first_at = at if tables.first_at is None else min(tables.first_at, at)
        tables.last_at = at if tables.last_at is None else max(tables.last_at, at)
        device = _device_of(event)
        person = self._person(device, event)
        if person is None or device is None:
            tables.unattributed_events += 1
            return
        context = _event_context(event)
        if context is not None:
            tables.context_changes.append(ContextChange(person, at, context))
        if not is_passive(event):
            _absorb(self._session(person, device, at, event), event, at)

    def _person(self, device: JsonObject | None, event: JsonObject) -> str | None:
        device_id = str(device.get("id")) if device else None
        return self.owners.person(device_id, event.get("userId"))

    def _session(self, person: str, device: JsonObject, at: float, event: JsonObject) -> Session:
        device_id = str(device.get("id"))
        key = (person, device_id)
        current = self.open.get(key)
        if current is not None and at - current.end <= session_gap(current.device_type):
            return current
        if current is not None:
            self.tables.sessions.append(current)
        known = self.devices.get(device_id)
        device_type = known.device_type if known else str(device.get("type", "unknown"))
        timezone = event.get("context", {}).get("timezone")
        session = Session(person, device_id, device_type, at, at, str(timezone or "UTC"))
        self.open[key] = session
        return session

    def finish(self) -> TraceTables:
        self.tables.sessions.extend(self.open.values())
        self.open.clear()
        self.tables.sessions.sort(key=lambda s: (s.start, s.person_id, s.device_id))
        self.tables.context_changes.sort(key=lambda c: (c.person_id, c.at))
        return self.tables


def session_gap(device_type: str) -> float:
    """Longest quiet time inside one session on a device of this type (seconds)."""
    return LONG_GAP_S.get(device_type, SESSION_GAP_S)


def _timestamp(path: Path, number: int, event: JsonObject) -> float:
    text = event.get("timestamp")
    try:
        return epoch_seconds(str(text))
    except ValueError as exc:
        raise ReportInputError(
            f"{path}: line {number}: key 'timestamp': expected ISO-8601, got {text!r}"
        ) from exc


def _device_of(event: JsonObject) -> JsonObject | None:
    context = event.get("context")
    device = context.get("device") if isinstance(context, dict) else None
    return device if isinstance(device, dict) and "id" in device else None


def _absorb(session: Session, event: JsonObject, at: float) -> None:
    session.end = max(session.end, at)
    session.events += 1
    if session.channel == "direct":
        session.channel = event_channel(event)
    properties = event.get("properties")
    if not isinstance(properties, dict):
        return
    if session.context is None and isinstance(properties.get("context"), str):
        session.context = properties["context"]
    if event.get("event") == ORDER_EVENT:
        session.orders += 1
        session.revenue += _money(properties)


def _money(properties: JsonObject) -> float:
    for key in ("revenue", "total", "value"):
        value = properties.get(key)
        if isinstance(value, int | float):
            return float(value)
    return 0.0


def is_passive(event: JsonObject) -> bool:
    """Events a device sends without the person acting: no session, no channel touch."""
    name = str(event.get("event", ""))
    if name == CONTEXT_EVENT or name.endswith((" Received", " Delivered")):
        return True
    properties = event.get("properties")
    message = isinstance(properties, dict) and "channel" in properties
    return message and name.endswith(ARRIVED_SUFFIXES)


def _event_context(event: JsonObject) -> str | None:
    if event.get("event") != CONTEXT_EVENT:
        return None
    properties = event.get("properties")
    value = properties.get("context") if isinstance(properties, dict) else None
    return value if isinstance(value, str) else None


def event_channel(event: JsonObject) -> str:
    """Where a touch came from: ``properties.channel``, UTM medium, a message event, or direct."""
    properties = event.get("properties")
    if isinstance(properties, dict) and isinstance(properties.get("channel"), str):
        return str(properties["channel"])
    named = ACTED_ON.get(str(event.get("event")))
    if named is not None:
        return named
    context = event.get("context")
    if isinstance(context, dict):
        campaign = context.get("campaign")
        if isinstance(campaign, dict) and isinstance(campaign.get("medium"), str):
            return str(campaign["medium"])
        referrer = context.get("referrer")
        if isinstance(referrer, dict) and isinstance(referrer.get("type"), str):
            return str(referrer["type"])
    return "direct"
