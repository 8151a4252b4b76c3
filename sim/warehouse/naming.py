"""Column and table names the way the warehouse destinations write them.

Segment converts every collection and property name from CamelCase to
snake_case (its warehouse schema docs name the go-snakecase package as the
rule); RudderStack does the same. The rule here, checked against the cases
that package documents: words are runs of ASCII letters and digits; a word
also ends where a lower-case letter or digit meets a capital (``userAgent``,
``Base64Encode``) and where an acronym meets a capitalised word (``HTTPServer``);
words are lower-cased and joined by ``_``; anything else (spaces, dots,
punctuation, non-ASCII letters) only separates words.
"""

from __future__ import annotations

import re

WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")

CALL_TABLES = ("identifies", "tracks", "pages", "screens", "aliases", "groups")
TABLE_OF_TYPE = {
    "identify": "identifies",
    "track": "tracks",
    "page": "pages",
    "screen": "screens",
    "alias": "aliases",
    "group": "groups",
}
RESERVED_TABLES = frozenset({*CALL_TABLES, "users", "accounts"})

# Columns every call table has; a property or trait of the same name is discarded
# (Segment's schema docs: properties that collide with reserved columns are dropped).
STANDARD_COLUMNS = (
    "id",
    "anonymous_id",
    "user_id",
    "timestamp",
    "original_timestamp",
    "sent_at",
    "received_at",
    "uuid_ts",
)
EXTRA_COLUMNS = {
    "tracks": ("event", "event_text"),
    "pages": ("name",),
    "screens": ("name",),
    "groups": ("group_id",),
    "aliases": ("previous_id",),
    "identifies": (),
}


def snake(name: str) -> str:
    """``"Product Viewed"`` -> ``product_viewed``; ``"userAgent"`` -> ``user_agent``."""
    return "_".join(word.lower() for word in WORD.findall(name))


def column(path: tuple[str, ...]) -> str:
    """A nested key's column: its path's parts in snake_case joined by ``_``."""
    return "_".join(part for part in (snake(p) for p in path) if part)


def event_table(event: str) -> str:
    """The table of one track event; a name that is a standard table gets a ``_`` prefix."""
    name = snake(event)
    return f"_{name}" if name in RESERVED_TABLES else name
