"""docs/events.md is generated from the contracts; these tests keep the committed file in step."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from brigade_common.envelope import CORRELATION_ID, MSG_ID, TRACEPARENT, Envelope
from brigade_contracts import CATALOG, docs, kitchen
from brigade_contracts.streams import STREAMS

REPO = Path(__file__).resolve().parents[3]
EVENTS_MD = REPO / "docs" / "events.md"


def test_the_committed_event_reference_is_up_to_date() -> None:
    committed = EVENTS_MD.read_text(encoding="utf-8") if EVENTS_MD.exists() else ""
    assert committed == docs.render(), "docs/events.md is out of date with the contracts: run `make docs`"


def test_the_module_prints_the_reference_deterministically() -> None:
    runs = [
        subprocess.run([sys.executable, "-m", "brigade_contracts.docs"], capture_output=True, check=True).stdout
        for _ in range(2)
    ]
    assert runs[0] == runs[1] == docs.render().encode()


def test_every_subject_and_stream_is_documented() -> None:
    text = docs.render()
    for subject, (model, direction) in CATALOG.items():
        assert f"### `{subject}`" in text
        assert direction in text
        for field in model.model_fields:
            assert f"| `{field}` |" in text, f"{subject}.{field} missing from the field table"
    for name in STREAMS:
        assert f"| `{name}` |" in text


def test_every_field_has_a_description() -> None:
    for subject, (model, _) in CATALOG.items():
        for name, _type, _req, _constraints, description in docs.field_rows(model):
            assert description, f"{subject} {name}: add Field(description=...) or a glossary entry"


def test_a_model_inside_a_message_has_its_own_described_field_table() -> None:
    text = docs.render()
    assert docs.nested_models(kitchen.PantryHeld) == [kitchen.HeldBalance]
    for subject, (model, _) in CATALOG.items():
        for inner in docs.nested_models(model):
            assert f"`{inner.__name__}`: " in text, f"{subject}: no table for {inner.__name__}"
            for name, _type, _req, _constraints, description in docs.field_rows(inner):
                assert description, f"{subject} {inner.__name__}.{name}: add a description or a glossary entry"


def _example_envelopes(text: str) -> list[dict[str, object]]:
    blocks = re.findall(r"Example envelope:\n\n```json\n(.*?)\n```", text, flags=re.DOTALL)
    return [json.loads(b) for b in blocks]


def test_example_envelopes_are_valid_envelopes_and_payloads() -> None:
    examples = _example_envelopes(docs.render())
    assert len(examples) == sum(1 for s in CATALOG if docs.stream_of(s) is not None)
    ids = set()
    for raw in examples:
        env = Envelope.model_validate(raw)
        model, _ = CATALOG[env.type]
        model.model_validate(env.data)
        assert env.causation_id is None or env.causation_id in {docs.example_id(s) for s in CATALOG}
        ids.add(env.id)
    assert len(ids) == len(examples)


def test_the_documented_envelope_and_headers_match_the_common_library() -> None:
    assert [name for name, _, _ in docs.ENVELOPE_FIELDS] == list(Envelope.model_fields)
    assert [name for name, _ in docs.HEADERS] == [MSG_ID, CORRELATION_ID, TRACEPARENT]


@pytest.mark.parametrize(
    ("pattern", "subject", "matches"),
    [
        ("warehouse.>", "warehouse.cmd.supply.v1", True),
        ("warehouse.>", "warehouse", False),
        ("kitchen.order.*", "kitchen.order.placed.v1", False),
        ("kitchen.order.*", "kitchen.order.placed", True),
        ("market.buy", "market.buy", True),
        ("dlq.>", "market.buy", False),
    ],
)
def test_subject_matching(pattern: str, subject: str, matches: bool) -> None:
    assert docs.subject_matches(pattern, subject) is matches


def test_request_reply_subjects_document_their_reply() -> None:
    text = docs.render()
    assert "Reply: `brigade_contracts.market.BuyReply`" in text
    assert docs.stream_of("market.buy") is None


def test_no_request_reply_subject_is_captured_by_a_stream() -> None:
    """A request on a subject a stream stores is answered by the stream's acknowledgement first."""
    rpcs = [s for s, (_, direction) in CATALOG.items() if "request-reply" in direction]
    assert rpcs
    assert [s for s in rpcs if docs.stream_of(s) is not None] == []
