"""The text inputs of an OpenAPI document: every path or query parameter, and every top-level JSON body
property, whose schema admits a string. Read from the document, so a new field is covered unasked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

LOCATIONS = ("path", "query")


@dataclass(frozen=True)
class TextInput:
    method: str
    path: str
    location: str  # "path", "query" or "body"
    name: str

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {self.location}.{self.name}"


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    while isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
        ref = schema.get("$ref")
    return schema


def admits_string(schema: dict[str, Any], document: dict[str, Any]) -> bool:
    schema = _resolve(schema, document)
    kind = schema.get("type")
    if kind == "string" or (isinstance(kind, list) and "string" in kind):
        return True
    branches = [*schema.get("anyOf", []), *schema.get("oneOf", []), *schema.get("allOf", [])]
    return any(admits_string(branch, document) for branch in branches)


def text_inputs(document: dict[str, Any]) -> Iterator[TextInput]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] in LOCATIONS and admits_string(parameter.get("schema", {}), document):
                    yield TextInput(method, path, parameter["in"], parameter["name"])
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            for name, prop in _resolve(body["schema"], document).get("properties", {}).items():
                if admits_string(prop, document):
                    yield TextInput(method, path, "body", name)
