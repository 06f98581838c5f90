"""The auth service as its entrypoints use it: every use case with its unit of work, the read side,
and signing in the way it must be done (count the attempt, check the password, open the session)."""

from __future__ import annotations

from typing import Any

from brigade_auth.domain.errors import InvalidCredentials
from brigade_auth.service.commands import OpenSession, SignIn
from brigade_auth.service.handlers import HANDLERS, Deps, SignedIn, count_attempt, open_session
from brigade_auth.service.ports import AuthViews, UnitOfWorkFactory
from brigade_common.messaging import MessageContext


class Auth:
    def __init__(self, *, uow: UnitOfWorkFactory, views: AuthViews, deps: Deps) -> None:
        self.views = views
        self.deps = deps
        self._uow = uow

    async def handle(self, cmd: Any, *, context: MessageContext) -> Any:
        """Run the use case of `cmd` in a unit of work of its own."""
        return await HANDLERS[type(cmd)](cmd, self._uow(context, None), self.deps)

    async def sign_in(self, cmd: SignIn, *, context: MessageContext) -> SignedIn:
        """Unknown address and wrong password fail alike, after the same work: one hash check each
        (against a dummy hash when there is no such user). Seed 002 answered a wrong password 200."""
        user = await count_attempt(cmd, self._uow(context, None), self.deps)
        hasher = self.deps.hasher
        if not await hasher.verify(user.password_hash if user else None, cmd.password) or user is None:
            raise InvalidCredentials
        # The parameters were raised since this hash was made: the password is at hand only now.
        new_hash = await hasher.hash(cmd.password) if hasher.needs_rehash(user.password_hash) else None
        opened = OpenSession(user.id, user.email, cmd.address, new_hash)
        return await open_session(opened, self._uow(context, None), self.deps)

    async def jwks(self) -> list[dict[str, str]]:
        """The public keys a token may be signed with now: the JWKS's `keys`."""
        keys = await self.views.keys()
        return [k.public_jwk for k in self.deps.keys.published(keys, self.deps.clock())]
