"""The vocabulary the messenger understands: event names, traits, engagement signals.

A campaign may only name events that something can actually send: the
Segment semantic specs (E-commerce v2, Mobile, Push, Email), the custom
events the simulated world emits, and the clearly named custom events the
closed loop emits for channels the spec does not cover (watch, TV, speaker,
car, in-app, SMS). Engagement events double as the messenger's memory of
which channel each profile answers on.
"""

from __future__ import annotations

from sim.trace.vocabulary import LOOP_EVENTS

SPEC_EVENTS = (
    # E-commerce v2
    "Products Searched",
    "Product List Viewed",
    "Product Clicked",
    "Product Viewed",
    "Product Added",
    "Product Removed",
    "Cart Viewed",
    "Checkout Started",
    "Checkout Step Viewed",
    "Checkout Step Completed",
    "Payment Info Entered",
    "Order Completed",
    "Order Updated",
    "Order Refunded",
    "Order Cancelled",
    "Coupon Entered",
    "Coupon Applied",
    "Product Added to Wishlist",
    "Product Shared",
    "Product Reviewed",
    # Mobile
    "Application Installed",
    "Application Opened",
    "Application Backgrounded",
    "Application Updated",
    "Application Uninstalled",
    "Push Notification Received",
    "Push Notification Tapped",
    "Push Notification Bounced",
    # Email
    "Email Bounced",
    "Email Delivered",
    "Email Opened",
    "Email Link Clicked",
    "Email Marked as Spam",
    "Unsubscribed",
    # Video
    "Video Playback Started",
    "Video Playback Completed",
)
WORLD_EVENTS = (
    "Signed Up",
    "Signed In",
    "Signed Out",
    "Push Permission Changed",
    "Feature Explored",
    "Voice Command",
    "Workout Started",
    "Workout Completed",
    "Activity Synced",
    "Trip Started",
    "Trip Ended",
    "Navigation Started",
)
API_EVENTS = (
    "Journey Triggered",  # POST /v1/track with properties.journey: enters a journey by API
)
KNOWN_EVENTS: frozenset[str] = frozenset(SPEC_EVENTS + WORLD_EVENTS + LOOP_EVENTS + API_EVENTS)

TRAITS: frozenset[str] = frozenset(
    {
        "email",
        "name",
        "firstName",
        "lastName",
        "age",
        "gender",
        "phone",
        "address.city",
        "address.state",
        "address.country",
        "subscriptions.email",
        "subscriptions.sms",
        "push",
    }
)
