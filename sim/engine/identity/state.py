"""The graph's private bookkeeping: one mutable record per live profile.

Profiles merge like drops of water: the smaller drop's identifiers move into
the larger one, and the small drop keeps a pointer (``parent``) to where it
went, so anything still holding it can find the survivor (union-find with
explicit member lists, which is what makes limits and un-linking possible).

Its public id is not its creation number but a hash of the identifier that
created it (``origin``): a profile born of ``userId:u-4f2a`` is called the
same whichever other households' events the graph also saw, so a worker that
only sees its own households names people as a one-process run does.
"""

from __future__ import annotations

from hashlib import blake2b

from sim.engine.identity.identifiers import ANONYMOUS_ID, DEVICE_ID, EMAIL, PHONE, USER_ID

ID_BYTES = 8
"""Public ids carry 64 bits (16 hex digits): at ten million profiles the chance
that two share an id is about 3 in a million (the birthday bound n**2 / 2**65)."""


class ProfileState:
    """A live (or merged-away) profile: identifier lists per kind and its links."""

    __slots__ = (
        "anonymous_ids",
        "device_ids",
        "emails",
        "household",
        "household_rule",
        "kind",
        "label",
        "links",
        "number",
        "origin",
        "origin_kind",
        "parent",
        "phones",
        "user_ids",
    )

    def __init__(
        self, number: int, kind: str = "person", origin: tuple[str, str] = ("", "")
    ) -> None:
        self.number = number
        """Creation order: internal ordering and merge tie-breaks, never shown."""
        self.kind = kind
        self.origin_kind, self.origin = origin
        """The identifier that created the profile (for a household: its first member's)."""
        self.label: str | None = None
        self.parent: ProfileState | None = None
        self.user_ids: list[str] = []
        self.emails: list[str] = []
        self.phones: list[str] = []
        self.device_ids: list[str] = []
        self.anonymous_ids: list[str] = []
        self.household: ProfileState | None = None
        self.household_rule: str | None = None
        self.links: dict[str, str] | None = None

    def ids(self, kind: str) -> list[str]:
        """The identifier list of one kind."""
        if kind == ANONYMOUS_ID:
            return self.anonymous_ids
        if kind == DEVICE_ID:
            return self.device_ids
        if kind == USER_ID:
            return self.user_ids
        if kind == EMAIL:
            return self.emails
        if kind == PHONE:
            return self.phones
        raise KeyError(kind)

    def size(self) -> int:
        return (
            len(self.anonymous_ids)
            + len(self.device_ids)
            + len(self.user_ids)
            + len(self.emails)
            + len(self.phones)
        )

    def identified(self) -> bool:
        """Whether a person said who they are here (account, email or phone)."""
        return bool(self.user_ids or self.emails or self.phones)

    def link_rule(self, device_id: str) -> str:
        if self.links is None:
            return "deterministic"
        return self.links.get(device_id, "deterministic")

    def set_link(self, device_id: str, rule: str) -> None:
        if rule == "deterministic":
            if self.links is not None:
                self.links.pop(device_id, None)
            return
        if self.links is None:
            self.links = {}
        self.links[device_id] = rule


def own_id(state: ProfileState) -> str:
    """This profile's own public id: ``p-`` or ``h-`` and a hash of its origin.

    Content-derived, so it does not depend on what else the graph has seen;
    a merged-away profile keeps its own id (the merge log names it), while
    lookups report the survivor's (:func:`public_id`).
    """
    label = state.label
    if label is None:
        household = state.kind == "household"
        text = f"{state.kind}|{state.origin_kind}:{state.origin}".encode()
        digest = blake2b(text, digest_size=ID_BYTES).hexdigest()
        label = state.label = f"{'h' if household else 'p'}-{digest}"
    return label


def public_id(state: ProfileState) -> str:
    """The id the outside world sees for ``state``: the surviving profile's own id."""
    return own_id(root(state))


def root(state: ProfileState) -> ProfileState:
    """Follow merge pointers to the surviving profile (with path halving)."""
    while state.parent is not None:
        parent = state.parent
        if parent.parent is not None:
            state.parent = parent.parent
        state = parent
    return state
