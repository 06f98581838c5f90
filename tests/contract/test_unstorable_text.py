"""Text PostgreSQL cannot store (a NUL character) is refused at the edge, naming the field.

For every text input of the services that keep data, the smallest request the schema accepts is
taken and that one input gets a NUL appended. Query and body fields must be answered 422 with the
field in the problem's `errors`; a path parameter may also be answered 404 (no resource can have that
id). The request goes through schemathesis's own checks as well, so the document has to say that
the NUL is not allowed: a 422 to a request the schema calls valid fails `positive_data_acceptance`.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis

from tests.contract import identities
from tests.contract.documents import DB_SERVICES, declared
from tests.contract.schemas import load
from tests.contract.text_inputs import TextInput, text_inputs
from tests.e2e.harness import Stack

NUL = "\x00"
INPUTS = [(service, item) for service in DB_SERVICES for item in text_inputs(declared()[service])]
# With every role: a route's role check comes before its inputs are read.
SCHEMAS = {service: load(service, identities.EveryRoleToken) for service in DB_SERVICES}
# The smallest valid request, found the same way every run.
SMALLEST = hypothesis.settings(database=None, derandomize=True, max_examples=20, deadline=None)


def _smallest_valid_case(service: str, item: TextInput) -> schemathesis.Case[Any]:
    operation = SCHEMAS[service][item.path][item.method]
    return hypothesis.find(operation.as_strategy(), lambda _: True, settings=SMALLEST)


def _with_nul(case: schemathesis.Case[Any], item: TextInput) -> None:
    if item.location == "path":
        case.path_parameters = {**(case.path_parameters or {}), item.name: f"{case.path_parameters[item.name]}{NUL}"}
    elif item.location == "query":
        before = (case.query or {}).get(item.name)
        case.query = {**(case.query or {}), item.name: f"{before if isinstance(before, str) else 'x'}{NUL}"}
    else:
        assert isinstance(case.body, dict), f"a JSON object body, got {case.body!r}"
        before = case.body.get(item.name)
        case.body = {**case.body, item.name: f"{before if isinstance(before, str) else 'x'}{NUL}"}


def _fields(response: schemathesis.Response) -> set[str]:
    """The fields a problem+json response names in its `errors`."""
    try:
        problem = response.json()
    except ValueError:
        return set()
    errors = problem.get("errors") if isinstance(problem, dict) else None
    return {str(e.get("field")) for e in errors or [] if isinstance(e, dict)}


@pytest.mark.parametrize(("service", "item"), INPUTS, ids=[f"{s}: {i}" for s, i in INPUTS])
def test_nul_in_a_text_input_is_refused_naming_it(service: str, item: TextInput, contract_stack: Stack) -> None:
    case = _smallest_valid_case(service, item)
    _with_nul(case, item)
    base_url = contract_stack.url(service)
    response = case.call_and_validate(base_url=base_url)
    answered = f"{response.status_code} {response.text}\nReproduce with:\n    {case.as_curl_command(base_url=base_url)}"
    expected = (404, 422) if item.location == "path" else (422,)
    assert response.status_code in expected, f"expected {expected}, got {answered}"
    if response.status_code == 422:
        assert item.name in _fields(response), f"the problem does not name {item.name!r}: {answered}"
