"""Locust load for Brigade: customers ordering dishes through the public HTTP API, and a little staff.

    locust -f tests/load/locustfile.py --host http://localhost:8080        # `make up`'s gateway
    make load                                                              # a benchmark (tests/load/__main__.py)

The host is the gateway locally or the ingress controller in a cluster (the chart's `loadgenerator`
component sets LOCUST_HOST). Environment:

    LOAD_TOKEN                  one fixed bearer token for every user (then all share its subject);
                                else each customer signs up and in through the auth service, as a
                                person would (a new address each), and signs in again before its
                                access token expires
    LOAD_STAFF_EMAIL            the account the staff users sign in with (roles are an admin's to
    LOAD_STAFF_PASSWORD         give, so a load cannot make its own staff); unset: no staff users
    LOAD_THINK_S                "min,max" seconds a user pauses between tasks (default "1,3")
    LOAD_ORDER_TIMEOUT_S        how long a customer follows a pending order (default 60)
    LOAD_CANCEL_SHARE           share of reserved orders the customer cancels; it pays for the others
                                with `tok_visa` (default 0.25)
    LOAD_JOURNEYS               stop the whole run after this many order journeys (default: never)
    LOAD_SUMMARY_FILE           write the final figures there as JSON when locust quits

What counts as a failure: any transport error, an unexpected status, or a body that is not what the
API documents. 409 and 422 on the two writes are the API's business refusals (an Idempotency-Key in
use, an unknown dish, an order that can no longer be cancelled or paid for): they are not failures but are
counted as `REFUSED` rows. How each order ended is reported as an `ORDER` row named after its final
status (`reserved`, `failed`, …), timed from the POST until it left `pending`; an order still pending
after LOAD_ORDER_TIMEOUT_S is a failure.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import secrets
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, between, events, task
from locust.clients import ResponseContextManager
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner
from locust.stats import StatsEntry

KITCHEN = "/api/kitchen"
AUTH = "/api/auth"
ORDER = f"{KITCHEN}/orders/{{order_id}}"
PAYMENTS = "/api/payments"
CARD = "tok_visa"  # the payment sandbox's card that always pays
SETTLED = {"reserved", "failed", "served", "cancelled", "expired"}
REFUSALS = (409, 422)
POLL_INTERVAL_S = 0.25
# Sign in again this long before the access token expires.
RENEW_BEFORE_S = 60


@dataclass(frozen=True)
class Settings:
    think_s: tuple[float, float]
    order_timeout_s: float
    cancel_share: float
    journeys: int | None

    @classmethod
    def from_env(cls) -> Settings:
        def get(name: str, default: str) -> str:
            return os.environ.get(name, "").strip() or default

        low, _, high = get("LOAD_THINK_S", "1,3").partition(",")
        journeys = get("LOAD_JOURNEYS", "")
        return cls(
            think_s=(float(low), float(high or low)),
            order_timeout_s=float(get("LOAD_ORDER_TIMEOUT_S", "60")),
            cancel_share=float(get("LOAD_CANCEL_SHARE", "0.25")),
            journeys=int(journeys) if journeys else None,
        )


SETTINGS = Settings.from_env()


@dataclass(frozen=True)
class Credentials:
    """How simulated users get their tokens: a fixed one, or by signing in (see the module's doc)."""

    fixed: str | None
    staff: tuple[str, str] | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Credentials:
        email, password = env.get("LOAD_STAFF_EMAIL", ""), env.get("LOAD_STAFF_PASSWORD", "")
        if bool(email) != bool(password):
            raise ValueError("set both LOAD_STAFF_EMAIL and LOAD_STAFF_PASSWORD, or neither")
        return cls(env.get("LOAD_TOKEN") or None, (email, password) if email else None)


class JourneyBudget:
    """LOAD_JOURNEYS: the run ends (locust quits) once that many order journeys have finished."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.started = 0
        self.finished = 0

    def take(self) -> bool:
        if self.total is not None and self.started >= self.total:
            return False
        self.started += 1
        return True

    def finish(self, environment: Environment) -> None:
        self.finished += 1
        if self.total is not None and self.finished == self.total and environment.runner is not None:
            # From a greenlet of its own: quitting kills every user greenlet, this one included.
            gevent.spawn(environment.runner.quit)


@dataclass
class Run:
    """What the users of this process share."""

    budget: JourneyBudget
    credentials: Credentials | None = None


RUN = Run(JourneyBudget(SETTINGS.journeys))


@events.init.add_listener
def _check_credentials(environment: Environment, **_: Any) -> None:
    """Fail at start-up, not in every user, when no token can be made."""
    if isinstance(environment.runner, MasterRunner):
        return  # a master runs no users
    try:
        RUN.credentials = Credentials.from_env(os.environ)
    except ValueError as exc:
        logging.getLogger(__name__).error("%s", exc)
        sys.exit(2)


def _failure(r: ResponseContextManager) -> str:
    """A failure's message, the same for the same failure (locust groups by message): a problem+json
    answer without its per-request members (`instance`, `request_id`)."""
    if not r.status_code:
        return f"no answer: {r.error}"
    try:
        problem = r.json()
    except ValueError:
        return f"{r.status_code}: {(r.text or '')[:200]}"
    if isinstance(problem, dict) and "title" in problem:
        return f"{r.status_code} {problem['title']}: {problem.get('detail', '')}"
    return f"{r.status_code}: {(r.text or '')[:200]}"


class BrigadeUser(HttpUser):
    """A signed-in user with a subject of its own."""

    abstract = True
    wait_time = between(*SETTINGS.think_s)
    roles: list[str] = []

    @property
    def credentials(self) -> Credentials:
        assert RUN.credentials is not None, "set at init"
        return RUN.credentials

    def on_start(self) -> None:
        self._renew_at = math.inf
        if self.credentials.fixed:
            self._token = self.credentials.fixed
            return
        self.account = self.new_account()
        if self.account is None:
            raise StopUser()
        self._token = ""
        self.sign_in()

    def new_account(self) -> tuple[str, str] | None:
        """The e-mail address and password this user signs in with (None: it cannot run)."""
        email = f"load-{'-'.join(self.roles)}-{uuid.uuid4().hex[:12]}@example.com"
        password = secrets.token_urlsafe(16)
        body = {"email": email, "password": password, "display_name": f"Load {self.roles[0]}"}
        with self.client.post(f"{AUTH}/signup", json=body, name=f"{AUTH}/signup", catch_response=True) as r:
            if r.status_code != 201:
                r.failure(_failure(r))
                return None
        return email, password

    def sign_in(self) -> None:
        email, password = self.account
        body = {"email": email, "password": password}
        with self.client.post(f"{AUTH}/signin", json=body, name=f"{AUTH}/signin", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(_failure(r))
                self._renew_at = time.monotonic() + POLL_INTERVAL_S  # try again at the next request
                return
            session = r.json()
            self._token = session["access_token"]
            self._renew_at = time.monotonic() + float(session["expires_in"]) - RENEW_BEFORE_S
        # The tokens travel as `Authorization: Bearer`, like an API client's; no cookie session.
        self.client.cookies.clear()

    def auth(self) -> dict[str, str]:
        if time.monotonic() > self._renew_at:
            self.sign_in()
        return {"Authorization": f"Bearer {self._token}"}

    @contextmanager
    def call(
        self, method: str, path: str, name: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> Iterator[ResponseContextManager]:
        """One request, named by its route template; a status outside `ok` (or REFUSALS) is a failure."""
        headers = {**self.auth(), **kwargs.pop("headers", {})}
        with self.client.request(method, path, name=name, headers=headers, catch_response=True, **kwargs) as r:
            if r.status_code in REFUSALS and method == "POST":
                r.success()
                self.report("REFUSED", f"{name} {r.status_code}", r.request_meta["response_time"])
            elif r.status_code not in ok:
                r.failure(_failure(r))
            yield r

    def report(self, kind: str, name: str, elapsed_ms: float, error: str | None = None) -> None:
        """A row of its own in the stats: how orders ended, business refusals."""
        self.environment.events.request.fire(
            request_type=kind,
            name=name,
            response_time=elapsed_ms,
            response_length=0,
            exception=Exception(error) if error else None,
            context={},
        )


class Customer(BrigadeUser):
    """Looks at today's menu, orders a dish, follows the order until the kitchen holds it (or gives up),
    checks it is among their orders, and then cancels it now and then, or else pays for it."""

    weight = 9
    roles = ["customer"]

    def menu(self) -> list[dict[str, Any]]:
        with self.call("GET", f"{KITCHEN}/dishes/today", f"{KITCHEN}/dishes/today") as r:
            dishes = r.json() if r.status_code == 200 else []
            if r.status_code == 200 and not (isinstance(dishes, list) and dishes):
                r.failure("today's menu is empty")
            return dishes if isinstance(dishes, list) else []

    @task(3)
    def browse(self) -> None:
        dishes = self.menu()
        if dishes:
            dish_id = random.choice(dishes)["id"]
            with self.call("GET", f"{KITCHEN}/dishes/{dish_id}", f"{KITCHEN}/dishes/{{dish_id}}") as r:
                if r.status_code == 200 and r.json().get("id") != dish_id:
                    r.failure("another dish came back")

    @task(5)
    def order_a_dish(self) -> None:
        if not RUN.budget.take():
            raise StopUser()
        try:
            dishes = self.menu()
            if dishes:
                self.order(random.choice(dishes)["id"])
        finally:
            RUN.budget.finish(self.environment)

    def order(self, dish_id: str) -> None:
        started = time.perf_counter()
        with self.call(
            "POST",
            f"{KITCHEN}/orders",
            f"{KITCHEN}/orders",
            ok=(201, 202),
            json={"dish_id": dish_id, "quantity": 1},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        ) as r:
            if r.status_code not in (201, 202):
                return
            order: dict[str, Any] = r.json()
            location = r.headers.get("Location", "")
            if order.get("dish_id") != dish_id or not location:
                r.failure(f"unexpected order answer: {r.text[:200]}")
                return
        order = self.follow(location, order, started)
        if order["status"] not in SETTLED:
            return
        self.my_orders(order["order_id"])
        if order["status"] != "reserved":
            return
        if random.random() < SETTINGS.cancel_share:
            with self.call("POST", f"{location}/cancel", f"{ORDER}/cancel") as r:
                if r.status_code == 200 and r.json().get("status") != "cancelled":
                    r.failure(f"cancel answered {r.json().get('status')!r}")
        else:
            self.pay(order)

    def pay(self, order: dict[str, Any]) -> None:
        """Pay for the reserved order with the sandbox's good card (the kitchen then serves it)."""
        with self.call(
            "POST",
            PAYMENTS,
            PAYMENTS,
            ok=(201,),
            json={"order_id": order["order_id"], "token": CARD},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        ) as r:
            if r.status_code == 201 and (r.json().get("status"), r.json().get("order_id")) != (
                "succeeded",
                order["order_id"],
            ):
                r.failure(f"unexpected payment answer: {r.text[:200]}")

    def follow(self, location: str, order: dict[str, Any], started: float) -> dict[str, Any]:
        """Poll a pending order (202 + Location) until it leaves `pending`; report how it ended."""
        deadline = started + SETTINGS.order_timeout_s
        while order.get("status") == "pending" and time.perf_counter() < deadline:
            time.sleep(POLL_INTERVAL_S)
            with self.call("GET", location, ORDER) as r:
                if r.status_code != 200:
                    return order
                order = r.json()
        elapsed_ms = (time.perf_counter() - started) * 1000
        status = str(order.get("status"))
        error = f"still {status} after {elapsed_ms / 1000:.0f}s" if status not in SETTLED else None
        self.report("ORDER", status, elapsed_ms, error)
        return order

    def my_orders(self, order_id: str) -> None:
        with self.call("GET", f"{KITCHEN}/orders", f"{KITCHEN}/orders?limit", params={"limit": 10}) as r:
            if r.status_code == 200 and order_id not in {o["order_id"] for o in r.json()["items"]}:
                r.failure(f"order {order_id} missing from my orders")


class Staff(BrigadeUser):
    """Checks the pantry and the warehouse now and then, signed in as LOAD_STAFF_EMAIL."""

    weight = 1
    roles = ["staff"]

    def new_account(self) -> tuple[str, str] | None:
        if self.credentials.staff is None:
            logging.getLogger(__name__).info("no LOAD_STAFF_EMAIL: this staff user stops")
        return self.credentials.staff

    @task
    def pantry(self) -> None:
        self.call_list(f"{KITCHEN}/pantry")

    @task
    def pantry_ledger(self) -> None:
        self.call_list(f"{KITCHEN}/pantry/movements", page=True)

    @task
    def stock(self) -> None:
        self.call_list("/api/warehouse/stock")

    @task
    def purchases(self) -> None:
        self.call_list("/api/warehouse/purchases", page=True)

    def call_list(self, path: str, *, page: bool = False) -> None:
        params = {"limit": 20} if page else None
        with self.call("GET", path, path + ("?limit" if page else ""), params=params) as r:
            if r.status_code == 200 and not isinstance(r.json()["items"] if page else r.json(), list):
                r.failure("not a list")


# ------------------------------------------------------------------------------------------ summary


def _entry(e: StatsEntry, window_s: float) -> dict[str, Any]:
    # locust keeps response times rounded (to 10 ms above 100 ms): a percentile may exceed the maximum.
    def percentile(p: float) -> float:
        return min(e.get_response_time_percentile(p), e.max_response_time)

    return {
        "type": e.method,
        "name": e.name,
        "requests": e.num_requests,
        "failures": e.num_failures,
        "rps": e.num_requests / window_s,
        "p50": percentile(0.5),
        "p95": percentile(0.95),
        "p99": percentile(0.99),
        "max": e.max_response_time,
    }


OUTCOME_ROWS = ("ORDER", "REFUSED")


@events.quitting.add_listener
def _write_summary(environment: Environment, **_: Any) -> None:
    """LOAD_SUMMARY_FILE: the final figures as JSON, for `make load` and the tests."""
    path = os.environ.get("LOAD_SUMMARY_FILE")
    if not path:
        return
    stats = environment.stats
    entries = sorted(stats.entries.values(), key=lambda e: (e.method in OUTCOME_ROWS, e.name, e.method))
    # locust's own total counts the outcome rows as requests; this one is HTTP requests only.
    total = StatsEntry(stats, "all requests", "")
    for e in entries:
        if e.method not in OUTCOME_ROWS:
            total.extend(e)
    # Rates over the whole run (first to last request), so rare rows compare with frequent ones.
    window_s = max((stats.total.last_request_timestamp or 0) - stats.total.start_time, 1.0)
    errors = [
        {"type": e.method, "name": e.name, "error": str(e.error), "occurrences": e.occurrences}
        for e in stats.errors.values()
    ]
    # A task that raised (a body that is not JSON, say) is in no stats row: count it too.
    if environment.runner is not None:
        errors += [
            {"type": "EXCEPTION", "name": "task", "error": str(e["msg"]), "occurrences": e["count"]}
            for e in environment.runner.exceptions.values()
        ]
    summary = {
        "entries": [_entry(e, window_s) for e in entries],
        "total": _entry(total, window_s),
        "errors": errors,
        "journeys": RUN.budget.finished,
    }
    Path(path).write_text(json.dumps(summary, indent=2))
