"""The shop's catalogue: what people search for, view, add to carts and buy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CATEGORIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "art supplies": (24.0, ("Watercolour Set", "Sketchbook A4", "Brush Kit", "Canvas Pack")),
    "kitchen": (35.0, ("Cast Iron Pan", "Chef Knife", "Spice Rack", "Pour-over Kettle")),
    "fitness": (45.0, ("Running Shoes", "Yoga Mat", "Protein Bars", "Water Bottle")),
    "electronics": (120.0, ("Wireless Earbuds", "Phone Case", "USB-C Hub", "Smart Plug")),
    "books": (16.0, ("Novel", "Cookbook", "Travel Guide", "Art History")),
    "home": (40.0, ("Throw Blanket", "Desk Lamp", "Plant Pot", "Scented Candle")),
    "travel": (60.0, ("Carry-on Bag", "Neck Pillow", "Packing Cubes", "Adapter")),
}


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    category: str
    price: float


def build_catalog(rng: np.random.Generator, per_name: int = 3) -> tuple[Product, ...]:
    """A fixed catalogue of products with log-normal prices around each category's median."""
    products: list[Product] = []
    for category, (median, names) in CATEGORIES.items():
        for name in names:
            for variant in range(per_name):
                price = round(float(median * rng.lognormal(0.0, 0.35)), 2)
                index = len(products)
                products.append(Product(f"p{index:04d}", f"{name} {variant + 1}", category, price))
    return tuple(products)
