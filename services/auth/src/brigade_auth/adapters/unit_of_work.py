"""The auth service's unit of work on PostgreSQL: its repositories on one transaction (brigade_common's
`UnitOfWork`: write buffer, outbox), and the messages its events become at commit."""

from __future__ import annotations

from brigade_auth.adapters.keys import PostgresKeys
from brigade_auth.adapters.messages import outgoing
from brigade_auth.adapters.refresh_tokens import PostgresRefreshTokens
from brigade_auth.adapters.throttles import PostgresThrottles
from brigade_auth.adapters.users import PostgresUsers
from brigade_auth.domain.events import Event
from brigade_common.messaging import Outgoing
from brigade_common.unit_of_work import UnitOfWork
from brigade_common.writes import Session


class PostgresAuthUnitOfWork(UnitOfWork[Event]):
    users: PostgresUsers
    refresh: PostgresRefreshTokens
    throttles: PostgresThrottles
    keys: PostgresKeys

    def open(self, session: Session) -> None:
        self.users = PostgresUsers(session)
        self.refresh = PostgresRefreshTokens(session)
        self.throttles = PostgresThrottles(session)
        self.keys = PostgresKeys(session)

    def persist(self) -> list[Event]:
        self.refresh.persist()
        return self.users.persist()

    def to_message(self, event: Event) -> Outgoing:
        return outgoing(event)
