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

```toml
[programme]
control_percent = 5
caps = [{ channel = "push", per_day = 2 }, { tag = "promo", per_day = 3 }, { per_day = 4 }]
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.engine.messaging.clock import MessageClock
from sim.engine.messaging.config import CHANNELS
from sim.engine.messaging.profiles import ProfileCard
from sim.engine.messaging.variants import bucket
from sim.errors import Problems

PROGRAMME_KEYS = frozenset({"control_percent", "caps", "remark", "source"})
CAP_KEYS = frozenset({"channel", "tag", "per_day", "remark", "source"})


@dataclass(frozen=True)
class ProgrammeCap:
    per_day: int
    channel: str = ""  # "" for every channel
    tag: str = ""  # "" for every tag

    @property
    def name(self) -> str:
        return "/".join(p for p in (self.channel, self.tag) if p) or "total"


@dataclass(frozen=True)
class Programme:
    caps: tuple[ProgrammeCap, ...] = ()
    control_percent: float = 0.0

    def held_out(self, profile_id: str) -> bool:
        """In the global control group? (a hash of the profile id, no dice)"""
        return self.control_percent > 0 and bucket("programme", profile_id) < self.control_percent

    def over(
        self, state: ProfileCard, channel: str, tag: str, clock: MessageClock, now: float
    ) -> str:
        """``""`` when the house rules allow one more message today, else which cap."""
        if not self.caps:
            return ""
        today = clock.local_day(now, state.timezone)
        todays = [(c, g) for _, c, day, g in state.sends if day == today]
        for cap in self.caps:
            if (cap.channel and cap.channel != channel) or (cap.tag and cap.tag != tag):
                continue
            used = sum(
                1
                for c, g in todays
                if (not cap.channel or c == cap.channel) and (not cap.tag or g == cap.tag)
            )
            if used >= cap.per_day:
                return f"programme_cap:{cap.name}"
        return ""


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
    items = raw.get("caps", [])
    if not isinstance(items, list):
        check.fail("caps", "an array of { channel, tag, per_day } tables", items)
        items = []
    caps = [cap for i, item in enumerate(items) if (cap := _cap(check, item, i)) is not None]
    check.raise_if_any()
    return Programme(tuple(caps), float(percent))


def _cap(check: Problems, item: Any, index: int) -> ProgrammeCap | None:
    key = f"caps[{index}]"
    if not isinstance(item, dict):
        check.fail(key, "a table { channel, tag, per_day }", item)
        return None
    for name in item:
        if name not in CAP_KEYS:
            check.fail(f"{key}.{name}", f"one of {sorted(CAP_KEYS)}", name)
    per_day = item.get("per_day")
    if isinstance(per_day, bool) or not isinstance(per_day, int) or per_day < 1:
        check.fail(
            f"{key}.per_day", "a whole number >= 1 (a cap of zero would never send)", per_day
        )
        return None
    channel, tag = item.get("channel", ""), item.get("tag", "")
    if channel and channel not in CHANNELS:
        check.fail(f"{key}.channel", f"one of {list(CHANNELS)}", channel)
    if not isinstance(tag, str):
        check.fail(f"{key}.tag", "a tag name", tag)
        tag = ""
    return ProgrammeCap(per_day, str(channel), tag)
