"""`python -m brigade_contracts.docs` prints docs/events.md, the event reference.

Everything comes from `CATALOG` and `streams.STREAMS`: the subjects of each stream, each subject's
direction, its model's docstring and a field table read from the model's JSON schema, and an example
envelope whose `data` is validated against the model, so a changed contract breaks the build here
rather than in the docs. The output is deterministic (fixed ids and times), so a test can compare it
with the committed file.

A field's description is the schema's (`Field(description=...)`) when the contract has one, else the
glossary in `_docs_data.py`.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from typing import Any, get_args

from pydantic import BaseModel

from brigade_contracts import CATALOG, kitchen
from brigade_contracts._docs_data import (
    CAUSES,
    ENVELOPE_FIELDS,
    EXAMPLE_CORRELATION,
    EXAMPLE_NAMESPACE,
    EXAMPLE_TIME,
    EXAMPLES,
    FIRST_CAUSES,
    GLOSSARY,
    HEADERS,
    REPLY_EXAMPLES,
    RPC_NOTES,
)
from brigade_contracts.streams import STREAMS, StreamSpec

GENERATOR = "python -m brigade_contracts.docs"

_SUBJECT_PATTERN = re.compile(r"answers (\w+)")


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` is one token, `>` one or more trailing tokens."""
    p, s = pattern.split("."), subject.split(".")
    for i, part in enumerate(p):
        if part == ">":
            return len(s) > i
        if i >= len(s) or (part != "*" and part != s[i]):
            return False
    return len(p) == len(s)


def stream_of(subject: str) -> StreamSpec | None:
    return next((s for s in STREAMS.values() if any(subject_matches(p, subject) for p in s.subjects)), None)


def example_id(subject: str) -> str:
    return str(uuid.uuid5(EXAMPLE_NAMESPACE, subject))


def reply_model(subject: str) -> type[BaseModel] | None:
    """For a request-reply subject whose direction says `answers <Model>`, that model."""
    model, direction = CATALOG[subject]
    found = _SUBJECT_PATTERN.search(direction)
    if not found:
        return None
    reply = getattr(sys.modules[model.__module__], found.group(1), None)
    if not (isinstance(reply, type) and issubclass(reply, BaseModel)):
        raise LookupError(f"{subject}: {found.group(1)} is not a model in {model.__module__}")
    return reply


def example_payload(subject: str, model: type[BaseModel], examples: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if subject not in examples:
        raise LookupError(f"no example for {subject}: add one to brigade_contracts.docs")
    return model.model_validate(examples[subject]).model_dump(mode="json")


def example_envelope(subject: str, model: type[BaseModel]) -> dict[str, Any]:
    cause = CAUSES.get(subject)
    if cause is None and subject not in FIRST_CAUSES:
        raise LookupError(f"{subject}: say in CAUSES or FIRST_CAUSES what causes it")
    return {
        "id": example_id(subject),
        "type": subject,
        "occurred_at": EXAMPLE_TIME,
        "correlation_id": EXAMPLE_CORRELATION,
        "causation_id": example_id(cause) if cause else None,
        "data": example_payload(subject, model, EXAMPLES),
    }


# --- the field table, from the JSON schema -------------------------------------------------------------


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return name, defs.get(name, {})
    return None, schema


def type_of(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    """A short, human type: `integer`, `string (date-time)`, `"a" | "b"`, `string | null`, `array of X`."""
    name, schema = _resolve(schema, defs)
    if name and "enum" not in schema:  # a closed set reads best as its values, wherever it is defined
        return f"`{name}`"
    if "anyOf" in schema:
        return " \\| ".join(type_of(s, defs) for s in schema["anyOf"])
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}), defs)}"
    if kind == "object" and "additionalProperties" in schema and isinstance(schema["additionalProperties"], dict):
        return f"object of {type_of(schema['additionalProperties'], defs)}"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


_CONSTRAINTS = (
    ("minLength", "length ≥ {}"),
    ("maxLength", "length ≤ {}"),
    ("pattern", "matches `{}`"),
    ("exclusiveMinimum", "> {}"),
    ("minimum", "≥ {}"),
    ("exclusiveMaximum", "< {}"),
    ("maximum", "≤ {}"),
    ("minItems", "≥ {} items"),
    ("maxItems", "≤ {} items"),
)


def constraints_of(schema: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    _, schema = _resolve(schema, defs)
    out = [template.format(_number(schema[key])) for key, template in _CONSTRAINTS if key in schema]
    for option in schema.get("anyOf", []):
        out += constraints_of(option, defs)
    return out


def _number(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:_}"
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def field_rows(model: type[BaseModel]) -> list[tuple[str, str, str, str, str]]:
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        if name in required:
            req = "yes"
        elif "default" in prop:
            req = f"no (default `{json.dumps(prop['default'])}`)"
        else:
            req = "no"
        description = prop.get("description") or GLOSSARY.get(f"{model.__name__}.{name}") or GLOSSARY.get(name, "")
        rows.append((f"`{name}`", type_of(prop, defs), req, ", ".join(constraints_of(prop, defs)), _cell(description)))
    return rows


def field_table(model: type[BaseModel]) -> list[str]:
    lines = ["| field | type | required | constraints | description |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in field_rows(model)]
    return lines


def nested_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """The models a model's fields hold (`list[HeldBalance]` …), each once, in field order."""
    found: list[type[BaseModel]] = []

    def walk(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation is not model and annotation not in found:
                found.append(annotation)
            return
        for arg in get_args(annotation):
            walk(arg)

    for info in model.model_fields.values():
        walk(info.annotation)
    return found


def _doc(model: type[BaseModel]) -> str:
    doc = model.__doc__ or ""
    # pydantic gives undocumented models BaseModel's docstring; that says nothing about this message.
    if not model.__dict__.get("__doc__"):
        return ""
    return " ".join(line.strip() for line in doc.strip().splitlines())


def _json_block(value: Any) -> list[str]:
    return ["```json", json.dumps(value, indent=2, ensure_ascii=False), "```"]


# --- the document --------------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"


def _anchor(subject: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "", subject.lower().replace(" ", "-"))


def _kind(subject: str) -> str:
    if stream_of(subject) is None:
        return "request-reply"
    return "command" if ".cmd." in subject else "event"


def subject_section(subject: str) -> list[str]:
    model, direction = CATALOG[subject]
    out = [f"### `{subject}`", ""]
    out.append(f"{_kind(subject).capitalize()} · {direction} · model `{model.__module__}.{model.__qualname__}`")
    doc = _doc(model)
    if doc:
        out += ["", doc]
    out += ["", *field_table(model)]
    for inner in nested_models(model):
        out += ["", f"`{inner.__name__}`{': ' + _doc(inner) if _doc(inner) else ''}", "", *field_table(inner)]
    reply = reply_model(subject)
    if reply is None:
        out += ["", "Example envelope:", "", *_json_block(example_envelope(subject, model))]
        return out
    out += [
        "",
        "Example request (the bare model, no envelope: request-reply is not an event):",
        "",
        *_json_block(example_payload(subject, model, EXAMPLES)),
    ]
    out += ["", f"Reply: `{reply.__module__}.{reply.__qualname__}`"]
    if _doc(reply):
        out += ["", _doc(reply)]
    out += [
        "",
        *field_table(reply),
        "",
        "Example reply:",
        "",
        *_json_block(example_payload(subject, reply, REPLY_EXAMPLES)),
    ]
    if subject in RPC_NOTES:
        out += ["", RPC_NOTES[subject]]
    return out


def _subjects_in(spec: StreamSpec) -> list[str]:
    return [s for s in CATALOG if stream_of(s) is spec]


def stream_section(spec: StreamSpec) -> list[str]:
    out = [f"## Stream `{spec.name}`", ""]
    subjects = ", ".join(f"`{s}`" for s in spec.subjects)
    out.append(
        f"Subjects {subjects}; limits retention, file storage, messages kept "
        f"{_duration(spec.max_age_s)}, duplicate window {_duration(spec.duplicate_window_s)}"
        + ("; scheduled messages allowed." if spec.allow_msg_schedules else ".")
    )
    if spec.allow_msg_schedules and spec is STREAMS.get("KITCHEN"):
        schedule = kitchen.expiry_schedule_subject("<order_id>")
        out += [
            "",
            f"The kitchen schedules each order's expiry check on `{schedule}` "
            f"with headers `Nats-Schedule: @at <expires_at>` and `Nats-Schedule-Target: "
            f"{kitchen.ORDER_EXPIRY_DUE}`; at that time the server publishes the message to the target. "
            "One schedule subject per order, so a newer schedule replaces an older one.",
        ]
    if spec.name == "DLQ":
        out += [
            "",
            "A consumer that cannot process a message (it fails validation, or it failed "
            "`max_deliver` times) copies it unchanged to `dlq.<context>.<consumer>` (e.g. "
            "`dlq.warehouse.warehouse-supply`) with the headers `Brigade-Error`, `Brigade-Original-Subject`, "
            "`Brigade-Original-Stream` and `Brigade-Original-Seq`, then terminates it. The server's "
            "max-deliveries advisories are kept here too, as a safety net.",
        ]
    subjects_here = _subjects_in(spec)
    if not subjects_here and spec.name != "DLQ":
        out += ["", "No message contract on this stream yet."]
    for subject in subjects_here:
        out += ["", *subject_section(subject)]
    return out


def render() -> str:
    out = [
        "# Event reference",
        "",
        f"<!-- Generated by `{GENERATOR}` from `brigade_contracts.CATALOG` and "
        "`brigade_contracts.streams`. Do not edit: run `make docs`. -->",
        "",
        "Every message Brigade sends between services: the JetStream streams, each subject on them, who "
        "sends it to whom, its payload, and an example. See [architecture.md](architecture.md) for how "
        "they fit together.",
        "",
        "## Envelope",
        "",
        "Events and commands are JSON envelopes (`brigade_common.envelope.Envelope`); unknown fields are "
        "refused, in the envelope and in every payload.",
        "",
        "| field | type | description |",
        "|---|---|---|",
        *[f"| `{name}` | {kind} | {desc} |" for name, kind, desc in ENVELOPE_FIELDS],
        "",
        "Headers on every message:",
        "",
        *[f"- `{name}`: {desc}." for name, desc in HEADERS],
        "",
        "## Streams",
        "",
        "| stream | subjects | retention | storage | max age | duplicate window | schedules |",
        "|---|---|---|---|---|---|---|",
    ]
    for spec in STREAMS.values():
        subjects = ", ".join(f"`{s}`" for s in spec.subjects)
        out.append(
            f"| `{spec.name}` | {subjects} | limits | file | {_duration(spec.max_age_s)} | "
            f"{_duration(spec.duplicate_window_s)} | {'yes' if spec.allow_msg_schedules else 'no'} |"
        )
    out += ["", "## Subjects", "", "| subject | kind | direction | model | stream |", "|---|---|---|---|---|"]
    for subject, (model, direction) in CATALOG.items():
        home = stream_of(subject)
        out.append(
            f"| [`{subject}`](#{_anchor(subject)}) | {_kind(subject)} | {direction} | "
            f"`{model.__name__}` | {f'`{home.name}`' if home else '—'} |"
        )
    for spec in STREAMS.values():
        out += ["", *stream_section(spec)]
    rpc = [s for s in CATALOG if stream_of(s) is None]
    if rpc:
        out += [
            "",
            "## Request-reply (no stream)",
            "",
            "Synchronous calls between services are NATS request-reply (`nats.micro` services), never HTTP.",
        ]
        for subject in rpc:
            out += ["", *subject_section(subject)]
    return "\n".join(out) + "\n"


def main() -> int:
    # Bytes, so a terminal or pipe with a non-UTF-8 locale cannot mangle the arrows.
    sys.stdout.buffer.write(render().encode())
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
