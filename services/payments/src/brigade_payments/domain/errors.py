"""The payments service's errors: one hierarchy, mapped to HTTP and to ack/nak/term in one place each."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brigade_contracts.kitchen import OrderStatus
    from brigade_payments.domain.model import PaymentState


class PaymentsError(Exception):
    """Base of the payments service's errors."""


class UnknownOrder(PaymentsError):
    """No such order, or not the caller's: the same answer either way, so nobody learns whose it is."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"no order with id {order_id!r}")
        self.order_id = order_id


class UnknownPayment(PaymentsError):
    def __init__(self, payment_id: str) -> None:
        super().__init__(f"no payment with id {payment_id!r}")
        self.payment_id = payment_id


class OrderNotPayable(PaymentsError):
    """Only a reserved order can be paid for (seed 001 charged cancelled and completed orders)."""

    def __init__(self, order_id: str, status: OrderStatus) -> None:
        super().__init__(f"order {order_id} is {status.value}: only a reserved order can be paid for")
        self.order_id = order_id
        self.status = status


class OrderAlreadyCharged(PaymentsError):
    """The order has its one charge already (being made, made, or made and refunded)."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} has been paid for already, or a payment for it is under way")
        self.order_id = order_id


class CardDeclined(PaymentsError):
    """The provider declined the card: nothing was taken, the order stays payable."""

    def __init__(self, payment: PaymentState, *, replayed: bool = False) -> None:
        super().__init__(payment.failure_message or "the card was declined")
        self.payment = payment
        self.replayed = replayed


class ProviderUnavailable(PaymentsError):
    """The provider could not process the charge this time (Stripe's `processing_error`): nothing
    was taken, and a retry may succeed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class KitchenUnavailable(PaymentsError):
    """The kitchen did not answer for an order the replica has not heard of."""


class InvalidPaymentTransition(PaymentsError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"a payment that is {current} cannot become {wanted}")
        self.current = current
        self.wanted = wanted
