"""Faker made cheap to ask once per person, drawing exactly what it would draw.

Faker answers ``fake.name()`` by picking a format ("{{first_name}}
{{last_name}}") and running a regular expression over it, and picks each
name from its list by copying the list: for American names a weighted table
of thousands, whose weights it copies into a new tuple and adds up again on
every call. Nothing of that changes between people, so :func:`quicken`
teaches one Faker three shortcuts: each list's items and running weight
sums are kept (by the list's identity), each format is cut into its pieces
once, and a phone number's digits are put in without regular expressions
(five passes, one per kind of mark, as Faker makes them; a ``#`` digit is
drawn as ``randint(0, 9)`` draws it, without its calls). :func:`calls`
finds a locale's methods once instead of through the ``Faker`` proxy on
every call. The draws from Faker's ``random.Random`` are the same draws in
the same order, so every name, city and phone number is the same.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from math import isfinite
from typing import Any

from faker import Faker
from faker.generator import _re_token as TOKEN  # Faker's own token pattern: "{{ name }}"

DIGITS = "0123456789"
KEPT = 4096  # lists or formats remembered per Faker before starting afresh
Table = tuple[object, Sequence[Any], list[float] | None]  # the list, its items, running weight sums
Pieces = list[tuple[str, str]]


def quicken(fake: Faker) -> Faker:
    """``fake`` (one locale) with kept lists and pre-cut formats; it draws what it drew before."""
    # NOTE: Faker's element picks and format parsing without per-call copies and regexes (test_speed_tricks.py).
    for generator in fake.factories:
        for provider in generator.providers:
            provider.random_element = _element_picker(provider)
            provider.numerify = _numerifier(provider)
        generator.parse = _parser(generator)
    return fake


@dataclass(frozen=True)
class Calls:
    """The calls a person's or a household's draw makes of one locale's Faker, bound once.

    A one-locale ``Faker`` is a proxy: every method is found through its
    ``__getattribute__`` and ``__getattr__`` before reaching the locale's
    generator. These are the generator's own methods, found once.
    """

    seed_instance: Callable[[int], object]
    name: Callable[[], str]
    phone_number: Callable[[], str]
    city: Callable[[], str]


def calls(fake: Faker) -> Calls:
    """``fake``'s methods as :class:`Calls` (a one-locale Faker: the proxy has one generator)."""
    # NOTE: the proxy's lookups made once per locale, not on every call (test_build_speed.py).
    (generator,) = fake.factories
    return Calls(generator.seed_instance, generator.name, generator.phone_number, generator.city)


def _element_picker(provider: Any) -> Callable[..., Any]:
    """``provider.random_element``: Faker's pick of one item, its table kept per list."""
    plain = provider.random_element
    weighted = bool(provider.__use_weighting__)
    tables: dict[int, Table] = {}

    def random_element(elements: Any = ("a", "b", "c")) -> Any:
        table = tables.get(id(elements))
        if table is None or table[0] is not elements or len(table[1]) != len(table[0]):
            made = _table(elements, weighted)
            if made is None:
                return plain(elements)
            if len(tables) >= KEPT:
                tables.clear()
            table = tables[id(elements)] = made
        _, items, sums = table
        if sums is None:
            return provider.generator.random.choice(
                items
            )  # random.choice, as Faker's unweighted pick
        point = provider.generator.random.random() * (sums[-1] + 0.0)
        return items[bisect_right(sums, point, 0, len(items) - 1)]  # random.choices' own step

    return random_element


def _numerifier(provider: Any) -> Callable[..., str]:
    """``provider.numerify``: Faker's five passes over the text, one per mark, without regexes."""
    marks = (
        ("%", provider.random_digit_not_null),
        ("$", provider.random_digit_above_two),
        ("!", provider.random_digit_or_empty),
        ("@", provider.random_digit_not_null_or_empty),
    )
    generator = provider.generator

    def numerify(text: str = "###") -> str:
        if "#" in text:  # Faker's first pass: random_digit() for each "#"
            text = hash_digits(text, generator.random.getrandbits)
        for mark, digit in marks:  # then the others, in Faker's order, each left to right
            if mark in text:
                text = "".join([str(digit()) if c == mark else c for c in text])
        return text

    return numerify


def hash_digits(text: str, bits: Callable[[int], int]) -> str:
    """``text`` with each ``#`` a digit as Faker's ``random_digit()`` draws it, left to right.

    ``random_digit()`` is ``randint(0, 9)``, which ``random.Random`` works
    out as ``_randbelow(10)``: four random bits, drawn again while they
    make 10 or more. ``bits`` is the Faker's ``getrandbits``.
    """
    # NOTE: randint(0, 9)'s own draw, without its three calls per digit (test_build_speed.py).
    out = []
    for c in text:
        if c == "#":
            digit = bits(4)
            while digit >= 10:
                digit = bits(4)
            out.append(DIGITS[digit])
        else:
            out.append(c)
    return "".join(out)


def _table(elements: Any, weighted: bool) -> Table | None:
    """A list's items and, when Faker weighs them, running sums; None where Faker must decide."""
    if isinstance(elements, OrderedDict):
        items = tuple(elements.keys())
        if not weighted:
            return elements, items, None
        sums = list(accumulate(elements.values()))
        if not sums or not sums[-1] > 0.0 or not isfinite(sums[-1]):
            return None  # Faker's own error
        return elements, items, sums
    if isinstance(elements, (tuple, list, str)) and len(elements) > 0:
        return elements, elements, None  # indexed as it is: Faker's tuple copy holds the same items
    return None


def _parser(generator: Any) -> Callable[[str], str]:
    """``generator.parse``: each format cut into (text, formatter) pieces once."""
    plain = generator.parse
    cut: dict[str, Pieces | None] = {}

    def parse(text: str) -> str:
        if text in cut:
            pieces = cut[text]
        else:
            if len(cut) >= KEPT:
                cut.clear()
            pieces = cut[text] = _pieces(text)
        if pieces is None:
            return str(plain(text))
        out = []
        for literal, formatter in pieces:
            out.append(literal)
            if formatter:
                out.append(str(generator.format(formatter)))
        return "".join(out)

    return parse


def _pieces(text: str) -> Pieces | None:
    """The format's literal text and formatter names in order; None with argument groups."""
    pieces: Pieces = []
    at = 0
    for match in TOKEN.finditer(text):
        if match.group(2):
            return None  # "{{ name:group }}": Faker looks the group's arguments up
        pieces.append((text[at : match.start()], match.group(1)))
        at = match.end()
    pieces.append((text[at:], ""))
    return pieces
