"""Seed 000's kitchen: its pantry and three dishes, plus a few more so today's menu means something."""

from __future__ import annotations

PANTRY: dict[str, int] = {
    "lechuga": 4,
    "pollo": 2,
    "carne_molida": 25,
    "pasta": 32,
    "queso": 100,
    "jamon": 86,
    "salsa_tomate": 40,
    "mayonesa": 60,
    "pan_canilla": 10,
}

# (id, name, description, price_cents, recipe)
DISHES: list[tuple[str, str, str, int, dict[str, int]]] = [
    ("ensalada-cesar", "Ensalada Cesar", "Lechuga romana con pollo a la plancha.", 850, {"lechuga": 5, "pollo": 2}),
    (
        "pasta-carne-molida",
        "Pasta con carne molida",
        "Pasta corta con salsa de carne y queso.",
        1100,
        {"carne_molida": 5, "pasta": 7, "queso": 10},
    ),
    (
        "pan-simple",
        "Pan simple",
        "Pan canilla con jamón, queso, salsa de tomate y mayonesa.",
        450,
        {"jamon": 5, "queso": 5, "salsa_tomate": 2, "mayonesa": 2, "pan_canilla": 1},
    ),
    (
        "sandwich-pollo",
        "Sándwich de pollo",
        "Pollo, lechuga y mayonesa en pan canilla.",
        700,
        {"pollo": 1, "pan_canilla": 1, "lechuga": 1, "mayonesa": 1},
    ),
    (
        "pasta-napolitana",
        "Pasta napolitana",
        "Pasta con salsa de tomate y queso.",
        900,
        {"pasta": 7, "salsa_tomate": 3, "queso": 5},
    ),
    (
        "hamburguesa",
        "Hamburguesa",
        "Carne molida, queso, lechuga y tomate.",
        1200,
        {"carne_molida": 3, "pan_canilla": 1, "lechuga": 1, "queso": 2, "salsa_tomate": 1},
    ),
    (
        "lasagna",
        "Lasaña",
        "Capas de pasta, carne molida, queso y salsa de tomate.",
        1400,
        {"pasta": 8, "carne_molida": 4, "queso": 8, "salsa_tomate": 3},
    ),
    (
        "arepa-jamon-queso",
        "Arepa de jamón y queso",
        "Arepa de maíz rellena.",
        600,
        {"harina_maiz": 2, "jamon": 2, "queso": 2},
    ),
    ("pollo-plancha", "Pollo a la plancha", "Pechuga a la plancha con ensalada.", 1000, {"pollo": 2, "lechuga": 2}),
    (
        "ensalada-caprese",
        "Ensalada caprese",
        "Tomate, queso y aceite de oliva.",
        800,
        {"tomate": 2, "queso": 3, "aceite_oliva": 1},
    ),
]
