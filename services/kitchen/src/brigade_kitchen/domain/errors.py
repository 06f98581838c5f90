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
