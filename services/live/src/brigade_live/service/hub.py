"""The hub: one stream consumer per channel per process, fanned out to every socket subscribed to it,
and the catch-up of a socket that comes back with the last `seq` it applied.

The hand-over from replay to live has no race: a subscription joins its channel's feed at the
position the feed has delivered (`until`), atomically (no `await` between reading the position and
joining), and from then on the feed holds every later event for it; the replay reads the stream
from `after` up to `until` only; then the held events go out, the subscription turns live and a
`live` frame says so. Every event with `seq` > `after` is sent once, in order: none from both
sides, none from neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import structlog
from prometheus_client import Counter, Gauge

from brigade_live.domain import protocol
from brigade_live.domain.channels import Channel
from brigade_live.service.ports import EventLog, Following, Stored
from brigade_live.service.session import Session, Subscription

log = structlog.get_logger("brigade_live.hub")

SOCKETS = Gauge("brigade_live_sockets", "Sockets signed in")
SUBSCRIPTIONS = Gauge("brigade_live_subscriptions", "Subscriptions, by channel", ["channel"])
EVENTS_SENT = Counter("brigade_live_events_sent_total", "Event frames sent, by channel and how", ["channel", "how"])
RESETS = Counter("brigade_live_resets_total", "Subscriptions told to reload, by channel", ["channel"])


class Feed:
    """One channel's live events, from its stream consumer to its subscriptions."""

    def __init__(self, channel: Channel, position: int) -> None:
        self.channel = channel
        # The last stream sequence delivered (or the stream's end when the feed started).
        self.position = position
        self.subscriptions: set[Subscription] = set()
        self._sent = EVENTS_SENT.labels(channel.name, "live")

    def deliver(self, stored: Stored) -> None:
        if stored.seq <= self.position:
            return  # a consumer that restarted hands over again what it had delivered
        self.position = stored.seq
        event = self.channel.decode(stored.seq, stored.subject, stored.data)
        if event is None:
            return
        frame = protocol.event(self.channel.name, event.seq, event.envelope)
        for subscription in tuple(self.subscriptions):
            subscription.push(event, frame)
        self._sent.inc(len(self.subscriptions))


@dataclass(frozen=True)
class HubSettings:
    replay_page: int = 1_000
    held_frames: int = 20_000


class Hub:
    def __init__(self, events: EventLog, channels: Mapping[str, Channel], settings: HubSettings) -> None:
        self.events = events
        self.channels = channels
        self.settings = settings
        self.feeds: dict[str, Feed] = {}
        self._following: list[Following] = []
        self._sessions: set[Session] = set()

    async def start(self) -> None:
        """Follow every channel's stream from its end."""
        for channel in self.channels.values():
            _, last = await self.events.bounds(channel.stream)
            feed = Feed(channel, last)
            self.feeds[channel.name] = feed
            self._following.append(await self.events.follow(channel.stream, channel.subjects, last, feed.deliver))

    async def stop(self) -> None:
        for following in self._following:
            await following.stop()
        self._following.clear()

    # ------------------------------------------------------------------------------ per socket

    def joined(self, session: Session) -> None:
        SOCKETS.inc()
        self._sessions.add(session)
        session.on_close = self.left  # closed by the server (too slow, expired): it leaves at once

    def left(self, session: Session) -> None:
        """The socket is gone or closing: it leaves every feed (its replays are the caller's to cancel)."""
        for name in list(session.subscriptions):
            self.unsubscribe(session, name)
        if session in self._sessions:
            self._sessions.discard(session)
            SOCKETS.dec()

    def unsubscribe(self, session: Session, name: str) -> None:
        subscription = session.subscriptions.pop(name, None)
        if subscription is not None:
            self.feeds[name].subscriptions.discard(subscription)
            SUBSCRIPTIONS.labels(name).dec()

    def refused(self, session: Session, name: str) -> str | None:
        """Why `session` may not subscribe to `name` (an `error` frame), or None."""
        channel = self.channels.get(name)
        if channel is None:
            return protocol.error("unknown-channel", f"no channel {name!r}: {', '.join(sorted(self.channels))}")
        if not channel.may_subscribe(session.principal):
            return protocol.error("forbidden", f"the {name} channel is for {', '.join(sorted(channel.roles))}")
        return None

    async def subscribe(self, session: Session, name: str, after: int | None) -> None:
        """Subscribe `session` to `name` (replacing any earlier subscription to it): replay what came
        after `after`, then go live; only new events when `after` is None."""
        refusal = self.refused(session, name)
        if refusal is not None:
            await session.send(refusal)
            return
        self.unsubscribe(session, name)
        feed = self.feeds[name]
        channel = feed.channel
        if after is not None:
            first, last = await self.events.bounds(channel.stream)
            reason = _reset_reason(after, first, max(last, feed.position))
            if reason is not None:
                RESETS.labels(name).inc()
                await session.send(protocol.reset(name, reason))
                return
        subscription = Subscription(session, channel, self.settings.held_frames)
        session.subscriptions[name] = subscription
        SUBSCRIPTIONS.labels(name).inc()
        until = feed.position
        feed.subscriptions.add(subscription)
        if after is not None and after < until:
            await self._replay(session, channel, after, until)
        while subscription.held:  # what arrived during the replay, sent at the socket's pace
            held, subscription.held = subscription.held, []
            for frame in held:
                await session.send(frame)
        subscription.live = True
        session.enqueue(protocol.live(name, feed.position))

    async def _replay(self, session: Session, channel: Channel, after: int, until: int) -> None:
        sent = EVENTS_SENT.labels(channel.name, "replay")
        async for page in self.events.replay(channel.stream, channel.subjects, after, until, self.settings.replay_page):
            for stored in page:
                event = channel.decode(stored.seq, stored.subject, stored.data)
                if event is not None and channel.visible(event, session.principal):
                    await session.send(protocol.event(channel.name, event.seq, event.envelope))
                    sent.inc()
            if session.closed:
                return


def _reset_reason(after: int, first: int, last: int) -> str | None:
    if after < first - 1:
        return f"the stream no longer holds the events after {after} (it starts at {first}): reload"
    if after > last:
        return f"the stream has no event {after} (it ends at {last}): reload"
    return None
