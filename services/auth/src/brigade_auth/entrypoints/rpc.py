"""`rpc.auth.jwks`: the public keys, for every service's verifier (a `nats.micro` service, queue
group `auth`, so any replica answers)."""

from __future__ import annotations

from nats.aio.client import Client as NATS
from nats.micro import add_service
from nats.micro.service import Service

from brigade_auth.service.auth import Auth
from brigade_common import rpc
from brigade_contracts.auth import JWKS, JwksReply, JwksRequest


async def serve_jwks(nc: NATS, auth: Auth) -> Service:
    """Start answering `rpc.auth.jwks` on `nc`; stop the returned service to end it."""

    async def keys(_: JwksRequest) -> JwksReply:
        return JwksReply(keys=await auth.jwks())

    service = await add_service(nc, name="auth", version="1.0.0", description="Brigade auth: signing keys")
    await service.add_endpoint(name="jwks", subject=JWKS, queue_group="auth", handler=rpc.endpoint(JwksRequest, keys))
    # As the market does: the subscription must reach the server before start-up says it is done
    # (nats-py can put the first flush's PING ahead of the SUB).
    await nc.flush()
    await nc.flush()
    return service
