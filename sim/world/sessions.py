"""Sessions: what a person does once a device is in their hand.

A phone session is a run of screens with log-normal gaps: open the app, sign
in if needed, scroll, perhaps search and view products, perhaps add one to the
cart; on the laptop that evening the cart is still there and the order goes
through. The TV plays a film, the speaker answers a recipe question, the watch
logs a workout, the car plays music on the way. Every step is a Segment event.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from sim.trace.events import EventType
from sim.world.catalog import Product
from sim.world.devices import Device
from sim.world.people import Person
from sim.world.world import World

Process = Generator[Any, Any, None]
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
VOICE = ("recipe", "music", "weather", "timer", "shopping list", "news")
SCREEN_DEVICES = ("phone", "tablet", "laptop")
CART_RETURN = 0.35  # assumed: share of sessions on a buying device that revisit a waiting cart
COOL_DOWN_DAYS = 3  # assumed: after an order, shopping interest drops for a few days


def gap(person: Person) -> float:
    persona = person.persona
    return min(600.0, float(person.rng.lognormal(persona.gap_mu, persona.gap_sigma)))


def session(world: World, person: Person, device: Device, day: int) -> Process:
    person.note_device(day, device)
    person.journey.returned(world.env.now, day)
    runner = {
        "tv": tv_session,
        "speaker": speaker_session,
        "watch": watch_session,
        "car": car_session,
    }.get(device.type, screen_session)
    yield from runner(world, person, device, day)


def view(world: World, person: Person, device: Device, name: str, **properties: Any) -> None:
    """A screen in an app, a page in a browser."""
    kind: EventType = "screen" if device.spec.app else "page"
    world.emit(person, device, kind, name=name, properties=properties)


def open_app(world: World, person: Person, device: Device, day: int) -> None:
    if not device.spec.app:
        if device.installed and person.rng.random() < world.scenario.cookie_reset_per_day:
            device.reset_anonymous_id(person.rng)
        device.installed = True
        view(world, person, device, "Home", url="https://shopwise.example/", path="/")
        return
    if not device.installed:
        device.installed = True
        world.emit(
            person,
            device,
            "track",
            event="Application Installed",
            properties={"version": "4.2.0", "build": "420"},
        )
        world.emit(
            person,
            device,
            "track",
            event="Application Opened",
            properties={"from_background": False, "version": "4.2.0"},
        )
        if device.type in ("phone", "tablet", "watch"):
            granted = person.opt_in.get("push", False)
            world.emit(
                person,
                device,
                "track",
                event="Push Permission Changed",
                properties={"granted": granted},
            )
        return
    world.emit(
        person, device, "track", event="Application Opened", properties={"from_background": True}
    )


def sign_in(world: World, person: Person, device: Device) -> None:
    """Account creation or login on this device, as the persona's lifecycle allows."""
    rng = person.rng
    if device.type not in (*SCREEN_DEVICES, "tv") or device.user_id == person.user_id:
        return
    if not person.has_account:
        if not (person.will_sign_up and device.type in SCREEN_DEVICES and rng.random() < 0.35):
            return
        person.has_account = True
        sign_out_other(world, person, device)
        device.log_in(person.user_id)
        traits = person.traits() | {"subscriptions": _subscriptions(person)}
        world.emit(person, device, "identify", traits=traits)
        world.emit(person, device, "track", event="Signed Up", properties={"method": "email"})
        return
    if not device.will_log_in or (device.shared and rng.random() >= 0.7):
        return
    sign_out_other(world, person, device)
    device.log_in(person.user_id)
    traits = {"email": person.email, "name": person.name, "subscriptions": _subscriptions(person)}
    world.emit(person, device, "identify", traits=traits)
    world.emit(person, device, "track", event="Signed In", properties={"method": "password"})


def _subscriptions(person: Person) -> dict[str, bool]:
    return {c: person.opt_in.get(c, False) for c in ("email", "sms")}


def sign_out_other(world: World, person: Person, device: Device) -> None:
    """On a shared device someone else is signed in: sign out, which resets the install id."""
    if device.user_id is None:
        return
    world.emit(person, device, "track", event="Signed Out", properties={})
    device.user_id = None
    device.reset_anonymous_id(person.rng)


def screen_session(world: World, person: Person, device: Device, day: int) -> Process:
    persona = person.persona
    rng = person.rng
    open_app(world, person, device, day)
    sign_in(world, person, device)
    screens = max(1, round(float(rng.lognormal(persona.screens_mu, persona.screens_sigma))))
    if wants_to_shop(person, device, day):
        yield from shop(world, person, device, day, screens)
    else:
        for _ in range(screens):
            yield world.env.timeout(gap(person))
            view(world, person, device, SCREENS[int(rng.integers(len(SCREENS)))])
        if rng.random() < 0.05:
            feature = FEATURES[int(rng.integers(len(FEATURES)))]
            world.emit(
                person, device, "track", event="Feature Explored", properties={"feature": feature}
            )
    if device.spec.app:
        yield world.env.timeout(gap(person))
        world.emit(person, device, "track", event="Application Backgrounded", properties={})


def wants_to_shop(person: Person, device: Device, day: int) -> bool:
    """A cart waiting on a buying device pulls people back; a fresh order cools them down."""
    persona = person.persona
    journey = person.journey
    chance = persona.browse
    if journey.cart and journey.intent and persona.buy_on.get(device.type, 0.0) > 0:
        chance = max(chance, CART_RETURN)
    if journey.orders and day - journey.last_order_day < COOL_DOWN_DAYS:
        chance *= 0.3
    return bool(person.rng.random() < chance)


def pick_product(world: World, person: Person) -> Product:
    catalog = world.catalog
    return catalog[int(person.rng.integers(len(catalog)))]


def product_properties(product: Product) -> dict[str, Any]:
    return {
        "product_id": product.id,
        "name": product.name,
        "category": product.category,
        "price": product.price,
        "currency": "USD",
    }


def shop(world: World, person: Person, device: Device, day: int, screens: int) -> Process:
    """Search, view, add to cart, and maybe check out: the commerce funnel on one device."""
    rng = person.rng
    journey = person.journey
    persona = person.persona
    env = world.env
    if journey.cart:
        yield env.timeout(gap(person))
        world.emit(
            person,
            device,
            "track",
            event="Cart Viewed",
            properties={"products": [product_properties(p) for p in journey.cart]},
        )
        journey.touch(f"{device.type}:cart")
    else:
        product = pick_product(world, person)
        yield env.timeout(gap(person))
        world.emit(
            person,
            device,
            "track",
            event="Products Searched",
            properties={"query": QUERIES[product.category]},
        )
        journey.touch(f"{device.type}:search")
        for _ in range(max(1, screens // 2)):
            yield env.timeout(gap(person))
            world.emit(
                person,
                device,
                "track",
                event="Product Viewed",
                properties=product_properties(product),
            )
            journey.reach("awareness", env.now)
            journey.touch(f"{device.type}:view")
            if rng.random() < persona.add_to_cart:
                yield env.timeout(gap(person))
                world.emit(
                    person,
                    device,
                    "track",
                    event="Product Added",
                    properties=product_properties(product) | {"quantity": 1},
                )
                journey.add(product, bool(rng.random() < persona.checkout), env.now)
                break
            product = pick_product(world, person)
    yield from maybe_checkout(world, person, device, day)


def maybe_checkout(world: World, person: Person, device: Device, day: int) -> Process:
    """Buy a cart meant to be bought, more likely on the persona's preferred buying devices."""
    journey = person.journey
    persona = person.persona
    preference = persona.buy_on.get(device.type, 0.0) / max(persona.buy_on.values(), default=1.0)
    if not (journey.cart and journey.intent) or person.rng.random() >= preference:
        return
    env = world.env
    products = [product_properties(p) for p in journey.cart]
    total = round(sum(p.price for p in journey.cart), 2)
    yield env.timeout(gap(person))
    world.emit(
        person,
        device,
        "track",
        event="Checkout Started",
        properties={"value": total, "currency": "USD", "products": products},
    )
    yield env.timeout(gap(person))
    order_id = f"o-{device.id[:6]}-{device.seq}"
    world.emit(
        person,
        device,
        "track",
        event="Order Completed",
        properties={
            "order_id": order_id,
            "total": total,
            "revenue": total,
            "currency": "USD",
            "products": products,
        },
    )
    journey.touch(f"{device.type}:order")
    journey.order(env.now, day, total)
    if person.rng.random() < persona.review:
        yield env.timeout(gap(person) * 4)
        event = "Product Reviewed" if person.rng.random() < 0.6 else "Product Shared"
        world.emit(
            person,
            device,
            "track",
            event=event,
            properties={"product_id": products[0]["product_id"]},
        )
        journey.reach("advocacy", env.now)


def tv_session(world: World, person: Person, device: Device, day: int) -> Process:
    rng = person.rng
    open_app(world, person, device, day)
    sign_in(world, person, device)
    view(world, person, device, "Browse")
    yield world.env.timeout(gap(person))
    content = {
        "content_asset_id": f"v{int(rng.integers(1000)):04d}",
        "position": 0,
        "livestream": False,
    }
    world.emit(person, device, "track", event="Video Playback Started", properties=content)
    second_screen(world, person, day)
    minutes = float(rng.lognormal(3.5, 0.5))
    yield world.env.timeout(minutes * 60.0)
    world.emit(
        person,
        device,
        "track",
        event="Video Playback Completed",
        properties=content | {"position": int(minutes * 60)},
    )


def second_screen(world: World, person: Person, day: int) -> None:
    """While the TV plays, many people pick up the phone or tablet as a second screen."""
    if person.rng.random() >= world.scenario.second_screen:
        return
    handheld = [d for d in person.devices if d.type in ("phone", "tablet") and not d.shared]
    if handheld:
        device = handheld[int(person.rng.integers(len(handheld)))]
        world.env.process(screen_session(world, person, device, day))


def speaker_session(world: World, person: Person, device: Device, day: int) -> Process:
    rng = person.rng
    open_app(world, person, device, day)
    for _ in range(1 + int(rng.integers(3))):
        intent = VOICE[int(rng.integers(len(VOICE)))]
        world.emit(person, device, "track", event="Voice Command", properties={"intent": intent})
        if intent == "shopping list":
            person.journey.touch("speaker:list")
        yield world.env.timeout(gap(person) * 3)


def watch_session(world: World, person: Person, device: Device, day: int) -> Process:
    rng = person.rng
    open_app(world, person, device, day)
    if person.context == "gym":
        world.emit(
            person,
            device,
            "track",
            event="Workout Started",
            properties={"activity": "strength" if rng.random() < 0.5 else "run"},
        )
        minutes = float(rng.uniform(25, 70))
        yield world.env.timeout(minutes * 60.0)
        world.emit(
            person,
            device,
            "track",
            event="Workout Completed",
            properties={"duration_minutes": round(minutes, 1)},
        )
        return
    yield world.env.timeout(gap(person))
    world.emit(
        person,
        device,
        "track",
        event="Activity Synced",
        properties={"steps": int(rng.integers(200, 4000))},
    )


def car_session(world: World, person: Person, device: Device, day: int) -> Process:
    rng = person.rng
    open_app(world, person, device, day)
    world.emit(person, device, "track", event="Trip Started", properties={})
    if rng.random() < 0.4:
        world.emit(person, device, "track", event="Navigation Started", properties={})
    minutes = float(rng.uniform(10, 40))
    yield world.env.timeout(minutes * 60.0)
    world.emit(
        person,
        device,
        "track",
        event="Trip Ended",
        properties={"duration_minutes": round(minutes, 1)},
    )
