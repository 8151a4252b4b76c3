"""Evidence cards have a fixed size: memory stays flat as simulated days grow.

A phone that redraws its carrier address every outing, day after day, must
not grow its card; what the probabilistic rules read from it (the home
network, the recent slots and meetings, which networks are public) must
stay right.
"""

from __future__ import annotations

from sim.engine.identity.evidence import (
    MAX_NETWORKS,
    MEETING_WINDOWS,
    SLOT_MINUTES,
    SLOT_WINDOW,
    WINDOW_MINUTES,
    DeviceEvidence,
    EvidenceBook,
)

DAY = 24 * 60
START = 29_000_000  # minutes since 1970, a Thursday in 2025
HOME, OFFICE = 0, 1


def commuter_days(evidence: DeviceEvidence, days: int, first_network: int = 2) -> None:
    """Evenings at home, mornings at the office, one fresh carrier address per commute."""
    fresh = first_network
    for day in range(days):
        midnight = START + day * DAY
        for minute in range(21 * 60, 23 * 60, 7):
            evidence.see(HOME, midnight + minute, "Video Played")
        for minute in range(10 * 60, 12 * 60, 9):
            evidence.see(OFFICE, midnight + minute, "Product Viewed")
        evidence.see(fresh, midnight + 8 * 60, "Route Checked")
        fresh += 1


def shape(evidence: DeviceEvidence) -> tuple[int, int, int, int]:
    return (
        len(evidence.slot_bits),
        len(evidence.ip_hours),
        len(evidence.ips),
        len(evidence.behaviour),
    )


def test_a_card_stops_growing_once_its_windows_are_full() -> None:
    book = EvidenceBook(12)
    month, two_months = DeviceEvidence("phone", book), DeviceEvidence("phone", book)
    commuter_days(month, 30)
    commuter_days(two_months, 60)
    assert shape(month) == shape(two_months)
    assert len(month.slot_bits) == SLOT_WINDOW // 8
    assert len(month.ip_hours) <= 4 * 15, "a few three-hour windows a day, two weeks of them"
    assert len(month.ips) == MAX_NETWORKS


def test_home_and_office_outlast_a_stream_of_one_off_addresses() -> None:
    evidence = DeviceEvidence("phone", EvidenceBook(12))
    commuter_days(evidence, 60)
    assert {HOME, OFFICE} <= set(evidence.ips)
    counts = evidence.home_counts()
    assert max(counts, key=lambda network: counts[network]) == HOME


def test_the_slot_window_keeps_the_latest_two_weeks_exactly() -> None:
    evidence = DeviceEvidence("laptop", EvidenceBook(12))
    minutes = [START + day * DAY + 600 for day in range(20)]
    for minute in minutes:
        evidence.see(None, minute, None)
    expected = [m // SLOT_MINUTES for m in minutes]
    kept = list(evidence.slots())
    assert kept == [s for s in expected if s > expected[-1] - SLOT_WINDOW]
    assert len(kept) == 14
    assert evidence.slot_range() == (kept[0], kept[-1])


def test_a_late_event_inside_the_window_is_kept() -> None:
    evidence = DeviceEvidence("laptop", EvidenceBook(12))
    evidence.see(None, START + 3 * DAY, None)
    evidence.see(None, START + DAY, None)
    assert list(evidence.slots()) == [
        (START + DAY) // SLOT_MINUTES,
        (START + 3 * DAY) // SLOT_MINUTES,
    ]


def test_meetings_keep_the_last_two_weeks_once_each() -> None:
    evidence = DeviceEvidence("watch", EvidenceBook(12))
    first = START // WINDOW_MINUTES
    for outing in range(MEETING_WINDOWS + 50):
        for _ in range(3):
            evidence.see(100 + outing, (first + outing) * WINDOW_MINUTES, None)
    windows = [pair & ((1 << 20) - 1) for pair in evidence.ip_hours]
    last = first + MEETING_WINDOWS + 49
    assert windows == list(range(last - MEETING_WINDOWS + 1, last + 1))
    assert evidence.meetings(last - 1) == list(evidence.ip_hours[-2:])


def test_a_network_is_public_past_the_device_limit_even_after_evictions() -> None:
    book, cafe = EvidenceBook(3), 50
    devices = [DeviceEvidence("phone", book) for _ in range(4)]
    for device in devices[:3]:
        device.see(cafe, START, None)
        commuter_days(device, 10, first_network=1000)
        assert cafe not in device.ips, "pushed out by busier and newer networks"
        device.see(cafe, START + 11 * DAY, None)
    assert book.public() == set(), "three devices, seen twice each, are not four"
    devices[3].see(cafe, START, None)
    assert book.public() == {cafe}


def test_behaviour_counts_events_by_name_for_every_card_alike() -> None:
    book = EvidenceBook(12)
    first, second = DeviceEvidence("tv", book), DeviceEvidence("tv", book)
    for name in ("Video Played", "Video Played", "Search"):
        first.see(None, None, name)
    second.see(None, None, "Search")
    assert first.names() == {book.names["Video Played"]: 2, book.names["Search"]: 1}
    assert second.names() == {book.names["Search"]: 1}


def test_slot_range_is_the_first_and_last_active_slot() -> None:
    import random

    draw = random.Random(3)
    assert DeviceEvidence("phone", EvidenceBook(12)).slot_range() is None
    for _ in range(300):
        evidence = DeviceEvidence("phone", EvidenceBook(12))
        start = draw.randrange(2_900_000, 2_910_000)
        for _ in range(draw.randint(1, 40)):
            evidence.see(None, (start + draw.randrange(-50, 3000)) * 10, None)
        slots = list(evidence.slots())
        assert evidence.slot_range() == (slots[0], slots[-1])
