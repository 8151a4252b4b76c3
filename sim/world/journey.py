"""The customer journey: awareness -> consideration -> purchase -> retention -> advocacy.

A journey is a trail of touchpoints. Kaylee sees running shoes on her phone
between classes (awareness), looks again and adds them to her cart
(consideration), and buys on the laptop that evening (purchase): a journey
that starts on one device and finishes on another. The world records each
stage the first time it is reached, and the trail of device touchpoints that
led to every order, so the analysis can find the most common paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.world.catalog import Product

STAGES: tuple[str, ...] = ("awareness", "consideration", "purchase", "retention", "advocacy")


@dataclass
class Journey:
    reached: dict[str, float] = field(default_factory=dict)
    cart: list[Product] = field(default_factory=list)
    intent: bool = False
    orders: int = 0
    revenue: float = 0.0
    trail: list[str] = field(default_factory=list)
    paths: list[tuple[tuple[str, ...], float, float]] = field(default_factory=list)
    last_order_day: int = -1
    cart_day: int = -1  # the day the cart got its first item

    def add(self, product: Product, will_buy: bool, now: float) -> None:
        """Put a product in the cart; the first item decides if this cart is ever bought.

        Baymard's ~70% abandonment is decided here, once per cart, so a cart
        that is going nowhere does not turn into an order just because its
        owner keeps opening the app. A reminder that works sets ``intent``.
        """
        if not self.cart:
            self.intent = will_buy
        self.cart.append(product)
        self.reach("consideration", now)

    def reach(self, stage: str, now: float) -> None:
        self.reached.setdefault(stage, now)

    def touch(self, touchpoint: str) -> None:
        """Remember a touchpoint (e.g. ``phone:search``), collapsing immediate repeats."""
        if not self.trail or self.trail[-1] != touchpoint:
            self.trail.append(touchpoint)
        if len(self.trail) > 12:
            del self.trail[0]

    def order(self, now: float, day: int, total: float) -> None:
        if self.orders and day > self.last_order_day:
            self.reach("retention", now)
        self.reach("purchase", now)
        self.orders += 1
        self.revenue += total
        self.paths.append((tuple(self.trail), now, total))
        self.trail = []
        self.cart = []
        self.intent = False
        self.last_order_day = day

    def returned(self, now: float, day: int) -> None:
        """A session on a later day than the last order counts as retention."""
        if self.orders and day > self.last_order_day:
            self.reach("retention", now)
