"""Sessions: what a person does once a device is in their hand.

A phone session is a run of screens with log-normal gaps: open the app, sign
in if needed, scroll, perhaps search and view products, perhaps add one to the
cart; on the laptop that evening the cart is still there and the order goes
through. The TV plays a film, the speaker answers a recipe question, the watch
logs a workout, the car plays music on the way. Every step is a Segment event.

A session is planned in one go when it starts, like a day's itinerary written
on a card: a :class:`Visit` keeps the session's own clock, each step moves it
on by a gap, and each event is posted for its moment (the world's trays hold
it until the clock gets there). The person's process then sleeps once, until
the visit is over.
"""

from __future__ import annotations

from typing import Any, Literal

from sim.trace.events import EventContext, SegmentEvent
from sim.world.brand import SCREENS as SCREEN_DEVICES
from sim.world.catalog import Product
from sim.world.devices import Device
from sim.world.people import Person
from sim.world.world import World

SCREENS = ("Home", "Feed", "Explore", "Profile", "Messages", "Wishlist", "Settings", "Article")
FEATURES = ("wishlist", "friends", "reviews", "size guide", "order tracking")
QUERIES = {
    "art supplies": "watercolour",
    "kitchen": "cast iron",
    "fitness": "running shoes",
    "electronics": "earbuds",
    "books": "cookbook",
    "home": "desk lamp",
    "travel": "carry-on",
}
CART_RETURN = 0.8  # calibrated: share of brand sessions on a buying device that revisit a cart meant to be bought
COOL_DOWN_DAYS = 3  # assumed: after an order, shopping interest drops for a few days
MAX_GAP = 600.0


class Visit:
    """One session on one device, with its own clock ``t`` (seconds into the run)."""

    __slots__ = (
        "app",
        "context",
        "day",
        "device",
        "draw",
        "kind",
        "mu",
        "person",
        "post",
        "sigma",
        "t",
        "world",
    )

    def __init__(self, world: World, person: Person, device: Device, day: int, t: float) -> None:
        self.world = world
        self.person = person
        self.device = device
        self.day = day
        self.t = t
        self.context = world.context_of(person, device)
        self.post = world.post
        self.draw = person.draw
        self.mu, self.sigma = person.persona.gap_mu, person.persona.gap_sigma
        self.app = device.spec.app
        if self.app and device.type in SCREEN_DEVICES:
            self.app = world.brand.of(person, world.streams).app_user
            if not self.app:
                self.context = in_browser(self.context, device)
        self.kind: Literal["screen", "page"] = "screen" if self.app else "page"

    def wait(self, seconds: float) -> None:
        self.t += seconds

    def pause(self, times: float = 1.0) -> None:
        """The log-normal think time between two screens (capped at ten minutes)."""
        self.t += min(MAX_GAP, self.draw.lognormal(self.mu, self.sigma)) * times

    def track(self, name: str, properties: dict[str, Any]) -> None:
        event: SegmentEvent = {"type": "track", "event": name, "properties": properties}
        self.post(self.person, self.device, self.t, event, self.context)

    def view(self, name: str, properties: dict[str, Any]) -> None:
        """A screen in an app, a page in a browser."""
        event: SegmentEvent = {"type": self.kind, "name": name, "properties": properties}
        self.post(self.person, self.device, self.t, event, self.context)

    def identify(self, traits: dict[str, Any]) -> None:
        event: SegmentEvent = {"type": "identify", "traits": traits}
        self.post(self.person, self.device, self.t, event, self.context)


def in_browser(context: dict[str, Any], device: Device) -> EventContext:
    """The device's context for the brand's web site: a browser, not the brand's app."""
    spec = device.spec
    web = EventContext({k: v for k, v in context.items() if k != "app"})
    web["userAgent"] = f"Mozilla/5.0 ({spec.os} {spec.os_version}) {spec.model}"
    return web.seal()


def session(world: World, person: Person, device: Device, day: int) -> float:
    """Play a brand session that starts now; returns when it ends (seconds into the run)."""
    visit = begin(world, person, device, day)
    RUNNERS.get(device.type, screen_session)(visit)
    return end(visit, world.env.now)


def begin(world: World, person: Person, device: Device, day: int) -> Visit:
    now = world.env.now
    person.journey.returned(now, day)
    visit = Visit(world, person, device, day, now)
    world.outcomes.brand_session(person.id, device.type, visit.app)
    return visit


def end(visit: Visit, start: float) -> float:
    """Close the session's books: how long an app session on a phone or tablet lasted."""
    if visit.app and visit.device.type in ("phone", "tablet"):
        visit.world.outcomes.timed(visit.t - start)
    return visit.t


def watch(world: World, person: Person, tv: Device, day: int, minutes: float) -> float:
    """A TV sitting that is a session with the brand's TV app (``minutes`` long)."""
    visit = begin(world, person, tv, day)
    tv_session(visit, minutes)
    return visit.t


def open_app(visit: Visit) -> None:
    device = visit.device
    person = visit.person
    if not visit.app:
        if device.installed and person.draw.random() < visit.world.scenario.cookie_reset_per_day:
            device.reset_anonymous_id(person.rng)
        device.installed = True
        visit.view("Home", {"url": "https://shopwise.example/", "path": "/"})
        return
    if not device.installed:
        device.installed = True
        visit.track("Application Installed", {"version": "4.2.0", "build": "420"})
        visit.track("Application Opened", {"from_background": False, "version": "4.2.0"})
        if device.type in ("phone", "tablet", "watch"):
            visit.track("Push Permission Changed", {"granted": person.opt_in.get("push", False)})
        return
    visit.track("Application Opened", {"from_background": True})


def sign_in(visit: Visit) -> None:
    """Account creation or login on this device, as the persona's lifecycle allows."""
    person = visit.person
    device = visit.device
    draw = person.draw
    if device.type not in (*SCREEN_DEVICES, "tv") or device.user_id == person.user_id:
        return
    if not person.has_account:
        if not (person.will_sign_up and device.type in SCREEN_DEVICES and draw.random() < 0.35):
            return
        person.has_account = True
        sign_out_other(visit)
        device.log_in(person.user_id)
        visit.identify(person.traits() | {"subscriptions": _subscriptions(person)})
        visit.track("Signed Up", {"method": "email"})
        return
    if not device.will_log_in or (device.shared and draw.random() >= 0.7):
        return
    sign_out_other(visit)
    device.log_in(person.user_id)
    traits = {"email": person.email, "name": person.name, "subscriptions": _subscriptions(person)}
    visit.identify(traits)
    visit.track("Signed In", {"method": "password"})


def _subscriptions(person: Person) -> dict[str, bool]:
    return {c: person.opt_in.get(c, False) for c in ("email", "sms")}


def sign_out_other(visit: Visit) -> None:
    """On a shared device someone else is signed in: sign out, which resets the install id."""
    device = visit.device
    if device.user_id is None:
        return
    visit.track("Signed Out", {})
    device.user_id = None
    device.reset_anonymous_id(visit.person.rng)


def screen_session(visit: Visit) -> None:
    person = visit.person
    persona = person.persona
    draw = person.draw
    open_app(visit)
    sign_in(visit)
    screens = max(1, round(draw.lognormal(persona.screens_mu, persona.screens_sigma)))
    if quick_look(visit):
        if visit.app:
            visit.pause()
            visit.view("Home", {})
        visit.pause(visit.world.brand.category.quick_look_dwell)
    elif wants_to_shop(visit):
        rest = screens - shop(visit, screens)
        if rest > 0:
            browse_screens(visit, rest)
    else:
        browse_screens(visit, screens)
        if draw.random() < 0.05:
            visit.track("Feature Explored", {"feature": FEATURES[draw.below(len(FEATURES))]})
    if visit.app:
        visit.pause()
        visit.track("Application Backgrounded", {})


def browse_screens(visit: Visit, screens: int) -> None:
    """``screens`` screens picked at random, a think time before each (``pause`` + ``view``).

    Most events of a day are these, so the loop is written out: the same
    draws in the same order as the two calls, without their look-ups.
    """
    person, device, context, kind = visit.person, visit.device, visit.context, visit.kind
    draw, post, mu, sigma = visit.draw, visit.post, visit.mu, visit.sigma
    lognormal, below = draw.lognormal, draw.below
    count = len(SCREENS)
    t = visit.t
    for _ in range(screens):
        t += min(MAX_GAP, lognormal(mu, sigma))
        post(
            person,
            device,
            t,
            {"type": kind, "name": SCREENS[below(count)], "properties": {}},
            context,
        )
    visit.t = t


def wants_to_shop(visit: Visit) -> bool:
    """A cart waiting on a buying device pulls people back; a fresh order cools them down."""
    person = visit.person
    persona = person.persona
    journey = person.journey
    category = visit.world.brand.category
    chance = category.shop.get(visit.device.type, 0.0) if category.orders else 0.0
    if (
        category.orders
        and journey.cart
        and journey.intent
        and persona.buy_on.get(visit.device.type, 0.0) > 0
    ):
        chance = max(chance, CART_RETURN)
    if journey.orders and visit.day - journey.last_order_day < COOL_DOWN_DAYS:
        chance *= 0.3
    return person.draw.random() < chance


def quick_look(visit: Visit) -> bool:
    """A glance and gone: the landing screen (the app's home feed, the site's home page) only.

    A price check, a tap on a push that lands and leaves, a look at the
    deals between two other things: the single-screen sessions a bounce rate
    counts. A waiting cart meant to be bought is never a quick look: it pulls
    the person into the cart.
    """
    journey = visit.person.journey
    if journey.cart and journey.intent:
        return False
    chance = visit.world.brand.category.quick_look.get(visit.device.type, 0.0)
    return chance > 0.0 and visit.person.draw.random() < chance


def pick_product(visit: Visit) -> Product:
    catalog = visit.world.catalog
    return catalog[visit.person.draw.below(len(catalog))]


def product_properties(product: Product) -> dict[str, Any]:
    return {
        "product_id": product.id,
        "name": product.name,
        "category": product.category,
        "price": product.price,
        "currency": "USD",
    }


def shop(visit: Visit, screens: int) -> int:
    """Search, view, add to cart, and maybe check out: the commerce funnel on one device.

    Returns how much of the visit's ``screens`` the funnel used. A shopper
    who searched, looked at a few products and put one in the cart goes on
    looking around for the rest of the visit (the persona's screens per
    session hold for every kind of session, shopping or not); an order
    ends the visit at its confirmation page, and a waiting cart that is
    only looked at uses the whole visit, as before.
    """
    person = visit.person
    journey = person.journey
    kind = visit.device.type
    orders = journey.orders
    seen = screens
    if journey.cart:
        visit.pause()
        visit.track("Cart Viewed", {"products": [product_properties(p) for p in journey.cart]})
        journey.touch(f"{kind}:cart")
    else:
        seen = browse(visit, screens)
    maybe_checkout(visit)
    return screens if journey.orders > orders else seen


def browse(visit: Visit, screens: int) -> int:
    """Search, then view products until one goes into the cart (or the session runs out).

    Returns the screens seen: the search results and each product page.
    """
    person = visit.person
    persona = person.persona
    journey = person.journey
    draw = person.draw
    kind = visit.device.type
    category = visit.world.brand.category
    add_to_cart = persona.add_to_cart * category.add_to_cart.get(kind, 1.0)
    product = pick_product(visit)
    visit.pause()
    visit.track("Products Searched", {"query": QUERIES[product.category]})
    journey.touch(f"{kind}:search")
    seen = 1
    for _ in range(max(1, screens // 2)):
        seen += 1
        visit.pause()
        visit.track("Product Viewed", product_properties(product))
        journey.reach("awareness", visit.t)
        journey.touch(f"{kind}:view")
        if draw.random() < add_to_cart:
            visit.pause()
            visit.track("Product Added", product_properties(product) | {"quantity": 1})
            if not journey.cart:
                visit.world.outcomes.cart_started(visit.day)
                journey.cart_day = visit.day
            completion = category.cart_completion.get(kind, 1.0)
            journey.add(product, draw.random() < persona.checkout * completion, visit.t)
            return seen
        product = pick_product(visit)
    return seen


def maybe_checkout(visit: Visit) -> None:
    """Buy a cart meant to be bought, more likely on the persona's preferred buying devices."""
    person = visit.person
    journey = person.journey
    persona = person.persona
    device = visit.device
    preference = persona.buy_on.get(device.type, 0.0) / max(persona.buy_on.values(), default=1.0)
    if not (journey.cart and journey.intent) or person.draw.random() >= preference:
        return
    if waits_for_favourite(visit):
        return
    products = [product_properties(p) for p in journey.cart]
    total = round(sum(p.price for p in journey.cart), 2)
    visit.pause()
    visit.track("Checkout Started", {"value": total, "currency": "USD", "products": products})
    visit.pause()
    order = {
        "order_id": f"o-{device.id[:6]}-{device.seq}",
        "total": total,
        "revenue": total,
        "currency": "USD",
        "products": products,
    }
    visit.track("Order Completed", order)
    visit.world.outcomes.orders[device.type] += 1
    visit.world.outcomes.cart_bought(journey.cart_day)
    journey.touch(f"{device.type}:order")
    journey.order(visit.t, visit.day, total)
    if person.draw.random() < persona.review:
        visit.pause(4.0)
        event = "Product Reviewed" if person.draw.random() < 0.6 else "Product Shared"
        visit.track(event, {"product_id": products[0]["product_id"]})
        journey.reach("advocacy", visit.t)


def waits_for_favourite(visit: Visit) -> bool:
    """On a screen they like less for buying, people often leave the cart for their favourite.

    Kaylee fills the cart on her phone and pays on the laptop that evening:
    with the brand category's ``cart_moves`` odds, a cart meant to be bought
    is left for the person's favourite buying screen they own, when this
    screen is not it (and :func:`sim.world.life.to_the_buying_screen` takes
    them there).
    """
    moves = visit.world.brand.category.cart_moves
    if not moves:
        return False
    person = visit.person
    buy_on = person.persona.buy_on
    owned = {d.type for d in person.devices}
    favourite = max((buy_on.get(kind, 0.0) for kind in owned), default=0.0)
    if buy_on.get(visit.device.type, 0.0) >= favourite:
        return False
    return person.draw.random() < moves


def tv_session(visit: Visit, minutes: float | None = None) -> None:
    """The brand's TV app: browse, play, finish (``minutes`` long, or a drawn length)."""
    draw = visit.person.draw
    open_app(visit)
    sign_in(visit)
    visit.view("Browse", {})
    visit.pause()
    content = {"content_asset_id": f"v{draw.below(1000):04d}", "position": 0, "livestream": False}
    visit.track("Video Playback Started", content)
    if minutes is None:
        minutes = draw.lognormal(3.5, 0.5)
    visit.wait(minutes * 60.0)
    visit.track("Video Playback Completed", content | {"position": int(minutes * 60)})


def speaker_session(visit: Visit) -> None:
    person = visit.person
    open_app(visit)
    for _ in range(1 + person.draw.below(3)):
        intent = person.voice_intent()
        visit.track("Voice Command", {"intent": intent})
        if intent == "shopping list":
            person.journey.touch("speaker:list")
        visit.pause(3.0)


def watch_session(visit: Visit) -> None:
    person = visit.person
    draw = person.draw
    open_app(visit)
    if person.context == "gym":
        visit.track("Workout Started", {"activity": "strength" if draw.random() < 0.5 else "run"})
        minutes = draw.uniform(25, 70)
        visit.wait(minutes * 60.0)
        visit.track("Workout Completed", {"duration_minutes": round(minutes, 1)})
        return
    visit.pause()
    visit.track("Activity Synced", {"steps": 200 + draw.below(3800)})


def car_session(visit: Visit) -> None:
    draw = visit.person.draw
    open_app(visit)
    visit.track("Trip Started", {})
    if draw.random() < 0.4:
        visit.track("Navigation Started", {})
    minutes = draw.uniform(10, 40)
    visit.wait(minutes * 60.0)
    visit.track("Trip Ended", {"duration_minutes": round(minutes, 1)})


RUNNERS = {
    "tv": tv_session,
    "speaker": speaker_session,
    "watch": watch_session,
    "car": car_session,
}
