"""The payments service's events as the messages other services read: the wire contracts, mapped here only."""

from __future__ import annotations

from brigade_common.messaging import Outgoing
from brigade_contracts import payments as p
from brigade_payments.domain.events import Event, PaymentFailed, PaymentRefunded, PaymentSucceeded


def outgoing(event: Event) -> Outgoing:
    """The message `event` becomes (the events are flat dataclasses: `vars` is their fields; the
    tests of this module validate every mapping against its contract)."""
    match event:
        case PaymentSucceeded():
            return Outgoing(p.PAYMENT_SUCCEEDED, p.PaymentSucceeded.model_construct(**vars(event)))
        case PaymentFailed():
            return Outgoing(p.PAYMENT_FAILED, p.PaymentFailed.model_construct(**vars(event)))
        case PaymentRefunded():
            return Outgoing(p.PAYMENT_REFUNDED, p.PaymentRefunded.model_construct(**vars(event)))
    raise TypeError(f"no message for {type(event).__name__}")
