"""Who sees which event of a channel: a per-user channel shows each user their own, and the roles
that see everything only where the channel says so (orders: staff; notifications: nobody)."""

from __future__ import annotations

from collections.abc import Iterable

from brigade_common.auth.verifier import Principal
from brigade_contracts.notifications import NOTIFICATION_CREATED
from brigade_live.domain.channels import NOBODY, STAFF, Channel, Event
from brigade_live.service.channels import CHANNELS
from services.live.tests.unit.fakes import envelope

ALICE = Principal("alice", frozenset({"customer"}))
SAM = Principal("sam", frozenset({"staff"}))
ADMIN = Principal("root", frozenset({"admin", "staff"}))


class Anyone:
    """A viewer that claims every role asked of it, even none."""

    sub = "mallory"

    def has_any_role(self, roles: Iterable[str]) -> bool:
        return True


def _private(owner: str | None) -> Event:
    return Event(1, NOTIFICATION_CREATED, "{}", owner)


def test_staff_see_every_order_but_only_their_own_notifications() -> None:
    orders, notifications = CHANNELS["orders"], CHANNELS["notifications"]
    assert orders.sees_all == STAFF and orders.sees_every_event(SAM)
    assert notifications.sees_all == NOBODY
    for viewer in (ALICE, SAM, ADMIN):
        assert not notifications.sees_every_event(viewer)
        assert notifications.may_subscribe(viewer), "every signed-in user has a bell"
        assert notifications.visible(_private(viewer.sub), viewer)
        assert not notifications.visible(_private("someone-else"), viewer)
        assert not notifications.visible(_private(None), viewer), "an event naming nobody is nobody's"


def test_no_roles_to_see_everything_means_nobody_whatever_the_viewer_claims() -> None:
    private = Channel("mine", "S", ("s.>",), frozenset({"s.x"}), owner_field="user_id", sees_all=NOBODY)
    assert not private.sees_every_event(Anyone())
    assert not private.visible(_private("alice"), Anyone())
    assert private.visible(_private("mallory"), Anyone())


def test_a_notification_event_is_owned_by_its_user_id() -> None:
    raw = envelope(NOTIFICATION_CREATED, notification_id="n-1", user_id="alice", unread=1)
    event = CHANNELS["notifications"].decode(7, NOTIFICATION_CREATED, raw)
    assert event is not None and (event.seq, event.owner) == (7, "alice")
    assert CHANNELS["notifications"].decode(8, "notifications.other.v1", raw) is None


def test_the_pantry_channel_carries_the_ledger_and_the_holds_and_nothing_else_of_the_kitchen() -> None:
    pantry = CHANNELS["pantry"]
    assert pantry.subjects == ("kitchen.pantry.*.v1",)
    for subject in ("kitchen.pantry.moved.v1", "kitchen.pantry.held.v1"):
        assert pantry.decode(3, subject, envelope(subject, ingredient="pan")) is not None
    assert pantry.decode(4, "kitchen.order.placed.v1", envelope("kitchen.order.placed.v1")) is None
    assert not pantry.may_subscribe(ALICE) and pantry.may_subscribe(SAM)


def test_the_menu_channel_carries_every_dish_change_to_anyone_signed_in() -> None:
    menu = CHANNELS["menu"]
    for change in ("created", "updated", "retired"):
        subject = f"kitchen.dish.{change}.v1"
        event = menu.decode(5, subject, envelope(subject, dish_id="pan-simple", version=2))
        assert event is not None
        assert menu.visible(event, ALICE) and menu.visible(event, SAM)
    assert menu.decode(6, "kitchen.order.placed.v1", envelope("kitchen.order.placed.v1")) is None
    assert menu.may_subscribe(ALICE) and menu.may_subscribe(SAM)
