"""E-mail bodies from Jinja2 templates: HTML with every value escaped, and a plain-text part.

The `.html` templates are autoescaped by the environment itself (not by a filter a template could
forget), and an undefined variable fails the render instead of printing nothing. Which facts each
kind shows, and where its link goes, is data here; the templates are shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from brigade_notifications.domain.model import Facts, Kind, Notice
from brigade_notifications.service.ports import Rendered

TEMPLATES = Path(__file__).parent / "templates"

# The facts each kind shows under its text, with their labels.
DETAILS: Mapping[Kind, tuple[tuple[str, str], ...]] = {
    Kind.ORDER_RESERVED: (
        ("Dish", "dish_name"),
        ("Quantity", "quantity"),
        ("Total", "total"),
        ("Pay by", "expires_at"),
    ),
    Kind.ORDER_CANCELLED: (("Dish", "dish_name"), ("Quantity", "quantity")),
    Kind.ORDER_EXPIRED: (("Dish", "dish_name"), ("Quantity", "quantity")),
    Kind.ORDER_FAILED: (("Dish", "dish_name"), ("Quantity", "quantity"), ("Reason", "reason")),
    Kind.PAYMENT_RECEIPT: (("Amount", "amount"), ("Order", "order_id"), ("Payment", "payment_id")),
    Kind.REFUND: (("Amount", "amount"), ("Order", "order_id"), ("Reason", "reason")),
    Kind.DISH_ADDED: (("Dish", "dish_name"), ("Price", "price"), ("Description", "description")),
}


def _link(kind: Kind, facts: Facts) -> tuple[str, str]:
    """The call to action: its words and the app path it opens."""
    if kind is Kind.DISH_ADDED:
        return "See the menu", "/"
    if facts.get("order_id"):
        return "See your order", f"/orders/{facts['order_id']}"
    return "Open Brigade", "/"


class JinjaRenderer:
    def __init__(self, public_url: str) -> None:
        self._public_url = public_url.rstrip("/")
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(
                enabled_extensions=("html",), disabled_extensions=("txt",), default_for_string=True, default=True
            ),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        self._html = self._env.get_template("notification.html")
        self._text = self._env.get_template("notification.txt")

    def render(self, notice: Notice, recipient: str | None) -> Rendered:
        action, path = _link(notice.kind, notice.facts)
        details = [
            (label, notice.facts[key])
            for label, key in DETAILS.get(notice.kind, ())
            if notice.facts.get(key) is not None
        ]
        context = {
            "title": notice.title,
            "body": notice.body,
            "recipient": recipient,
            "details": details,
            "action": action,
            "link": self._public_url + path,
        }
        return Rendered(text=self._text.render(context), html=self._html.render(context))
