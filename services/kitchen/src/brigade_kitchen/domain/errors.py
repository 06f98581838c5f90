"""The kitchen's errors: one hierarchy, mapped to HTTP and to ack/nak/term in one place each."""

from __future__ import annotations


class KitchenError(Exception):
    """Base of the kitchen's errors."""


class UnknownDish(KitchenError):
    def __init__(self, dish_id: str) -> None:
        super().__init__(f"no dish with id {dish_id!r}")
        self.dish_id = dish_id


class UnknownOrder(KitchenError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"no order with id {order_id!r}")
        self.order_id = order_id


class UnknownSupplyRequest(KitchenError):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"no supply request with id {request_id!r}")
        self.request_id = request_id


class InvalidTransition(KitchenError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"an order that is {current} cannot become {wanted}")
        self.current = current
        self.wanted = wanted


class ExpiryNotDue(KitchenError):
    """The expiry check came before the order's deadline (clock skew): try again later."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} is not due to expire yet")
        self.order_id = order_id


class InvalidDish(KitchenError):
    """What staff wrote is not a dish the menu can have; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DuplicateDishName(KitchenError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a dish on the menu is already named {name!r}")
        self.name = name


class StaleDish(KitchenError):
    """A write that read an older version of the dish than the one it has now."""

    def __init__(self, dish_id: str, expected: int, current: int) -> None:
        super().__init__(f"dish {dish_id!r} is at version {current}, not {expected}: someone changed it meanwhile")
        self.dish_id = dish_id
        self.expected = expected
        self.current = current


class DishVersionChanged(KitchenError):
    """An order named the version of the dish its customer saw, and the dish changed since."""

    def __init__(self, dish_id: str, ordered: int, current: int) -> None:
        super().__init__(
            f"dish {dish_id!r} changed since version {ordered} (it is at version {current}): "
            "look at its price and recipe again before ordering"
        )
        self.dish_id = dish_id
        self.ordered = ordered
        self.current = current


class InvalidImage(KitchenError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
