"""Variant assignment: a stable coin per (campaign, profile), no randomness kept anywhere.

Hash the campaign name and the profile id into a number in [0, 100) and walk
the variants' shares like marks on a ruler. The same profile always lands in
the same variant, on every run, on every machine, so a control group stays a
control group and two runs of one scenario split the crowd identically.
"""

from __future__ import annotations

import hashlib

from sim.engine.messaging.config import Variant


def bucket(campaign: str, profile_id: str) -> float:
    """A point in [0, 100) derived from the names alone."""
    digest = hashlib.blake2b(f"{campaign}\x00{profile_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * 100.0


def assign(campaign: str, profile_id: str, variants: tuple[Variant, ...]) -> Variant:
    point = bucket(campaign, profile_id)
    edge = 0.0
    for variant in variants:
        edge += variant.share
        if point < edge:
            return variant
    return variants[-1]
