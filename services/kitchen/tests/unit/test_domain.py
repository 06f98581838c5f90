"""Pure kitchen rules: reservation maths, the order state machine, today's menu."""

from __future__ import annotations

from datetime import date

import pytest

from brigade_kitchen.domain.menu import todays_menu
from brigade_kitchen.domain.orders import InvalidTransition, allocate, check_transition, requirements


def test_requirements_scale_the_recipe_by_quantity() -> None:
    assert requirements({"lechuga": 5, "pollo": 2}, 3) == {"lechuga": 15, "pollo": 6}


@pytest.mark.parametrize(
    ("needed", "on_hand", "reserved", "take", "short"),
    [
        (5, 4, 0, 4, 1),  # seed 000: lechuga 4 for a salad that needs 5
        (5, 10, 0, 5, 0),
        (5, 10, 8, 2, 3),  # others' holds are not available
        (5, 3, 3, 0, 5),
        (5, 0, 0, 0, 5),
    ],
)
def test_allocate_takes_only_what_is_available(needed: int, on_hand: int, reserved: int, take: int, short: int) -> None:
    a = allocate(needed, on_hand, reserved, "lechuga")
    assert (a.take, a.short) == (take, short)
    assert a.take + reserved <= on_hand


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ("pending", "reserved"),
        ("pending", "failed"),
        ("pending", "cancelled"),
        ("reserved", "served"),
        ("reserved", "expired"),
        ("reserved", "cancelled"),
    ],
)
def test_allowed_transitions(current: str, wanted: str) -> None:
    check_transition(current, wanted)


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ("served", "cancelled"),
        ("expired", "served"),
        ("cancelled", "reserved"),
        ("failed", "reserved"),
        ("pending", "served"),
        ("reserved", "pending"),
    ],
)
def test_forbidden_transitions(current: str, wanted: str) -> None:
    with pytest.raises(InvalidTransition):
        check_transition(current, wanted)


def test_todays_menu_is_seven_dishes_stable_for_the_day_and_changing_between_days() -> None:
    dishes = [f"dish-{i}" for i in range(12)]
    today = todays_menu(dishes, date(2026, 11, 22))
    assert len(today) == 7 and len(set(today)) == 7
    assert todays_menu(list(reversed(dishes)), date(2026, 11, 22)) == today
    assert any(todays_menu(dishes, date(2026, 11, d)) != today for d in range(23, 30))
    assert sorted(todays_menu(dishes[:3], date(2026, 11, 22))) == dishes[:3]  # fewer than 7: all of them
