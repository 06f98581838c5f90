"""The payments service as its entrypoints use it: each use case with its units of work, the read
side, and the sweep that settles payments a crashed process left processing."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta

from brigade_common.messaging import InboxEntry, MessageContext
from brigade_payments.domain.errors import UnknownPayment
from brigade_payments.service import commands as c
from brigade_payments.service.charges import Charged, Deps, pay_order, settle_stuck_payment
from brigade_payments.service.handlers import apply_order_snapshot, refund_payment
from brigade_payments.service.ports import PaymentsUnitOfWork, PaymentsViews, Progress, UnitOfWorkFactory


class Cashier:
    def __init__(self, *, uow: UnitOfWorkFactory, views: PaymentsViews, deps: Deps, stuck_after_s: float) -> None:
        self.views = views
        self.deps = deps
        self._uow = uow
        self._stuck_after = timedelta(seconds=stuck_after_s)

    def _units(self, context: MessageContext) -> Callable[[], PaymentsUnitOfWork]:
        return lambda: self._uow(context, None)

    async def pay(self, cmd: c.PayOrder, *, context: MessageContext) -> Charged:
        return await pay_order(cmd, self._units(context), self.deps)

    async def apply(self, cmd: c.ApplyOrderSnapshot, *, context: MessageContext, inbox: InboxEntry) -> bool:
        return await apply_order_snapshot(cmd, self._uow(context, inbox), self.deps)

    async def refund(self, cmd: c.RefundPayment, *, context: MessageContext, progress: Progress) -> None:
        await refund_payment(cmd, self._units(context), self.deps, progress)

    async def settle_stuck(self, limit: int = 100) -> int:
        """Settle every payment still processing past `stuck_after_s` (its request died); how many
        were looked at."""
        stuck = await self.views.stuck(self.deps.clock() - self._stuck_after, limit)
        for payment_id in stuck:
            with contextlib.suppress(UnknownPayment):
                context = MessageContext(f"sweep-{payment_id}")
                await settle_stuck_payment(c.SettleStuckPayment(payment_id), self._units(context), self.deps)
        return len(stuck)
