"""Programme-level policy: rules over every campaign and journey at once, as Braze has them.

The brand's switchboard has house rules above any one campaign's: no person
gets more than two pushes a local day, or more than three promotions, however
many journeys want them (``caps``, per channel and/or per message ``tag``,
counted over the profile's local calendar day); receipts and password resets
(``transactional = true`` on the message) pass regardless; and a small global
control group (``control_percent``) hears nothing but transactional
messages from any campaign or journey, so the whole programme's lift can be
measured against people it never touched. Membership is a hash of the
profile id, like variants: stable, and the same in every run.

Caps may also count over a rolling window (``{ tag = "promo", max = 3,
window_days = 7 }``: at most three promotions in any seven days), and a
journey may replace the house caps for its own messages, or be exempt from
them (``programme_caps``, see :mod:`journeys`). Named audience segments live
here too (``[programme.segments]``), for any campaign, journey or split to
name.

```toml
[programme]
control_percent = 5
caps = [{ channel = "push", per_day = 2 }, { tag = "promo", max = 3, window_days = 7 },
        { per_day = 4 }]
segments = { repeat-buyers = { event = "Order Completed", min = 2, within_days = 30 } }
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.engine.messaging.clock import HOUR, MessageClock
from sim.engine.messaging.config import CHANNELS, _Check
from sim.engine.messaging.events import TRAITS
from sim.engine.messaging.profiles import ProfileCard
from sim.engine.messaging.rules import Rule, parse_rule
from sim.engine.messaging.variants import bucket
from sim.errors import Problems
from sim.trace.clock import DAY

PROGRAMME_KEYS = frozenset({"control_percent", "caps", "segments", "remark", "source"})
CAP_KEYS = frozenset(
    {"channel", "tag", "per_day", "max", "window_days", "window_hours", "remark", "source"}
)


@dataclass(frozen=True)
class ProgrammeCap:
    limit: int
    channel: str = ""  # "" for every channel
    tag: str = ""  # "" for every tag
    window: float = 0.0  # seconds of a rolling window; 0: the profile's local calendar day

    @property
    def name(self) -> str:
        base = "/".join(p for p in (self.channel, self.tag) if p) or "total"
        if not self.window:
            return base
        span = f"{self.window / DAY:g}d" if self.window % DAY == 0 else f"{self.window / HOUR:g}h"
        return f"{base}:{span}"

    def counts(self, channel: str, tag: str) -> bool:
        """Does a message of this channel and tag count against the cap?"""
        return (not self.channel or self.channel == channel) and (not self.tag or self.tag == tag)


def over_caps(
    caps: tuple[ProgrammeCap, ...],
    state: ProfileCard,
    channel: str,
    tag: str,
    clock: MessageClock,
    now: float,
) -> str:
    """``""`` when one more message keeps every cap, else ``programme_cap:<which>``."""
    today = clock.local_day(now, state.timezone) if any(not c.window for c in caps) else 0
    for cap in caps:
        if not cap.counts(channel, tag):
            continue
        if cap.window:
            used = sum(1 for t, c, _, g in state.sends if now - t < cap.window and cap.counts(c, g))
        else:
            used = sum(1 for _, c, day, g in state.sends if day == today and cap.counts(c, g))
        if used >= cap.limit:
            return f"programme_cap:{cap.name}"
    return ""


def horizon(caps: tuple[ProgrammeCap, ...]) -> float:
    """How far back a send may still count against one of ``caps`` (local days: three)."""
    return max((c.window or 3 * DAY for c in caps), default=0.0)


@dataclass(frozen=True)
class Programme:
    caps: tuple[ProgrammeCap, ...] = ()
    control_percent: float = 0.0
    segments: dict[str, Rule] = field(default_factory=dict)

    def held_out(self, profile_id: str) -> bool:
        """In the global control group? (a hash of the profile id, no dice)"""
        return self.control_percent > 0 and bucket("programme", profile_id) < self.control_percent

    def over(
        self,
        state: ProfileCard,
        channel: str,
        tag: str,
        clock: MessageClock,
        now: float,
        caps: tuple[ProgrammeCap, ...] | None = None,
    ) -> str:
        """``""`` when the house rules (or a journey's own ``caps``) allow one more, else which cap."""
        chosen = self.caps if caps is None else caps
        return over_caps(chosen, state, channel, tag, clock, now) if chosen else ""


def parse_programme(raw: object, where: str) -> Programme:
    """The ``[programme]`` table, or a :class:`ConfigError` naming every bad key."""
    check = Problems(where, "programme.")
    if not isinstance(raw, dict):
        check.fail("", "a table", raw)
        check.raise_if_any()
        return Programme()
    for key in raw:
        if key not in PROGRAMME_KEYS:
            check.fail(key, f"one of {sorted(PROGRAMME_KEYS)}", key)
    percent = raw.get("control_percent", 0)
    if isinstance(percent, bool) or not isinstance(percent, int | float) or not 0 <= percent < 100:
        check.fail("control_percent", "a share of profiles in [0, 100)", percent)
        percent = 0
    caps = parse_caps(check, raw.get("caps", []), "caps")
    segments = _segments(where, raw.get("segments", {}), check.problems)
    check.raise_if_any()
    return Programme(caps, float(percent), segments)


def _segments(where: str, raw: object, problems: list[str]) -> dict[str, Rule]:
    """Named rules; each may name the segments defined above it."""
    check = _Check(where, "programme", problems)
    if not isinstance(raw, dict):
        check.fail("segments", "a table of name = { all | any | none = [...] }", raw)
        return {}
    out: dict[str, Rule] = {}
    for name, table in raw.items():
        rule = parse_rule(check, table, f"segments.{name}", TRAITS, out)
        if rule is not None:
            out[name] = rule
    return out


def parse_caps(check: Problems, items: object, key: str) -> tuple[ProgrammeCap, ...]:
    """An array of caps (``[programme].caps`` or a journey's ``programme_caps``)."""
    if not isinstance(items, list):
        check.fail(key, "an array of { channel, tag, per_day | max + window_days } tables", items)
        return ()
    caps = (_cap(check, item, f"{key}[{i}]") for i, item in enumerate(items))
    return tuple(cap for cap in caps if cap is not None)


def _cap(check: Problems, item: Any, key: str) -> ProgrammeCap | None:
    if not isinstance(item, dict):
        check.fail(key, "a table { channel, tag, per_day | max + window_days }", item)
        return None
    for name in item:
        if name not in CAP_KEYS:
            check.fail(f"{key}.{name}", f"one of {sorted(CAP_KEYS)}", name)
    counts = [k for k in ("per_day", "max") if k in item]
    if len(counts) != 1:
        check.fail(key, "exactly one of per_day (a local day) or max (a rolling window)", counts)
        return None
    limit = item[counts[0]]
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        check.fail(
            f"{key}.{counts[0]}", "a whole number >= 1 (a cap of zero would never send)", limit
        )
        return None
    window = _window(check, item, key) if counts[0] == "max" else 0.0
    if window is None:
        return None
    channel, tag = item.get("channel", ""), item.get("tag", "")
    if channel and channel not in CHANNELS:
        check.fail(f"{key}.channel", f"one of {list(CHANNELS)}", channel)
    if not isinstance(tag, str):
        check.fail(f"{key}.tag", "a tag name", tag)
        tag = ""
    return ProgrammeCap(limit, str(channel), tag, window)


def _window(check: Problems, item: dict[str, Any], key: str) -> float | None:
    spans = [k for k in ("window_days", "window_hours") if k in item]
    if len(spans) != 1:
        check.fail(key, "max with exactly one of window_days, window_hours", spans)
        return None
    value = item[spans[0]]
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        check.fail(f"{key}.{spans[0]}", "a number > 0", value)
        return None
    return float(value) * (DAY if spans[0] == "window_days" else HOUR)
