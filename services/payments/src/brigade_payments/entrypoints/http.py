"""Payments HTTP routes under /api/payments: each declares its inputs, calls one use case, responds.

Errors are answered by `PROBLEMS` (registered once on the app), never caught here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from brigade_common.auth.verifier import Principal
from brigade_common.dependencies import RETRY_AFTER_S
from brigade_common.http import json_response
from brigade_common.idempotency import IdempotencyKey, fingerprint
from brigade_common.inputs import IDEMPOTENCY_KEY
from brigade_common.messaging import MessageContext
from brigade_common.openapi import OpenAPI
from brigade_common.pagination import Page, time_cursor
from brigade_common.problems import Conflict, NotFound, Problem, ProblemMapper, ServiceUnavailable
from brigade_payments.domain.errors import (
    CardDeclined,
    KitchenUnavailable,
    OrderAlreadyCharged,
    OrderNotPayable,
    ProviderUnavailable,
    UnknownOrder,
    UnknownPayment,
)
from brigade_payments.entrypoints.schemas import PayBody, PaymentListQuery, PaymentOut, PaymentPath
from brigade_payments.service import commands, queries
from brigade_payments.service.payments import Cashier

PREFIX = "/api/payments"
REPLAYED = "Idempotent-Replayed"
api = OpenAPI(title="Brigade payments", version="1.0.0")


class PaymentRequired(Problem):
    """402: the card was declined; nothing was taken."""

    status_code = 402
    default_slug = "card-declined"
    default_title = "Payment Required"


def _declined(exc: Exception) -> Problem:
    assert isinstance(exc, CardDeclined)
    payment = exc.payment
    return PaymentRequired(
        str(exc),
        field="token",
        headers={REPLAYED: "true"} if exc.replayed else None,
        extensions={"payment_id": payment.payment_id, "decline_code": payment.failure_code},
    )


def _provider_unavailable(exc: Exception) -> Problem:
    assert isinstance(exc, ProviderUnavailable)
    return ServiceUnavailable(
        f"{exc.message} Nothing was taken; the same request (and Idempotency-Key) may be sent again.",
        type="payment-provider-unavailable",
        title="Payment Provider Unavailable",
        headers={"Retry-After": "1"},
        extensions={"decline_code": exc.code},
    )


def _not_payable(exc: Exception) -> Problem:
    assert isinstance(exc, OrderNotPayable)
    return Conflict(str(exc), type="order-not-payable", field="order_id", extensions={"order_status": exc.status})


# The payments service's errors as HTTP answers: the one place they are mapped.
PROBLEMS: Mapping[type[Exception], ProblemMapper] = {
    # Someone else's order is no more there than one that does not exist.
    UnknownOrder: lambda e: NotFound(str(e), type="unknown-order", field="order_id"),
    UnknownPayment: lambda e: NotFound(str(e), type="unknown-payment"),
    OrderNotPayable: _not_payable,
    OrderAlreadyCharged: lambda e: Conflict(str(e), type="order-already-charged", field="order_id"),
    CardDeclined: _declined,
    ProviderUnavailable: _provider_unavailable,
    KitchenUnavailable: lambda e: ServiceUnavailable(
        str(e),
        type="dependency-unavailable",
        title="Dependency Unavailable",
        headers={"Retry-After": str(RETRY_AFTER_S)},
        extensions={"dependency": "kitchen"},
    ),
}


def _cashier(request: Request) -> Cashier:
    cashier: Cashier = request.app.state.cashier
    return cashier


def _is_staff(principal: Principal) -> bool:
    return "staff" in principal.roles


@api.route(
    "POST",
    PREFIX,
    body=PayBody,
    auth=True,
    headers=[IDEMPOTENCY_KEY],
    responses={201: PaymentOut, 402: PaymentRequired, 404: NotFound, 409: Conflict, 503: ServiceUnavailable},
    summary="Pay for one of my reserved orders (its price, charged once)",
    description="201 with the succeeded payment; 402 when the card is declined (the order stays payable); "
    "409 when the order is not reserved or is paid for already; 503 when the provider could not process "
    "the card (nothing taken: send the same request again). With an `Idempotency-Key`, a retry replays the "
    "first answer (status and body, `Idempotent-Replayed: true`); while the first is still running, 409.",
)
async def pay(
    request: Request, *, body: PayBody, principal: Principal, idempotency_key: str | None, context: MessageContext
) -> Response:
    key = (
        IdempotencyKey(principal.sub, idempotency_key, "POST", PREFIX, fingerprint("POST", PREFIX, body))
        if idempotency_key is not None
        else None
    )
    cmd = commands.PayOrder(str(uuid.uuid4()), str(body.order_id), principal.sub, body.token.value, key)
    charged = await _cashier(request).pay(cmd, context=context)
    headers = {"Location": f"{PREFIX}/{charged.payment.payment_id}"}
    if charged.replayed:
        headers[REPLAYED] = "true"
    return json_response(PaymentOut.of(charged.payment), status=201, headers=headers)


@api.route(
    "GET",
    PREFIX,
    auth=True,
    query=PaymentListQuery,
    responses={200: Page[PaymentOut]},
    summary="My payments, newest first (staff: everyone's); `order_id` for one order's",
)
async def list_payments(request: Request, *, query: PaymentListQuery, principal: Principal) -> Response:
    rows = await queries.visible_payments(
        _cashier(request).views,
        viewer=principal.sub,
        is_staff=_is_staff(principal),
        order_id=str(query.order_id) if query.order_id else None,
        before=query.before(),
        limit=query.limit + 1,
    )
    page = rows[: query.limit]
    nxt = time_cursor(page[-1].created_at, page[-1].payment_id) if len(rows) > query.limit else None
    return json_response(Page[PaymentOut](items=[PaymentOut.of(p) for p in page], next_cursor=nxt))


@api.route(
    "GET",
    f"{PREFIX}/{{payment_id}}",
    path_params=PaymentPath,
    auth=True,
    responses={200: PaymentOut, 404: NotFound},
    summary="One of my payments (staff: any)",
)
async def get_payment(request: Request, *, payment_id: uuid.UUID, principal: Principal) -> Response:
    payment = await queries.visible_payment(
        _cashier(request).views, str(payment_id), viewer=principal.sub, is_staff=_is_staff(principal)
    )
    return json_response(PaymentOut.of(payment))
