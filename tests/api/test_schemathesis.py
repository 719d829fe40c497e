"""Property-based run of schemathesis against /api/openapi.json (bounded and
derandomized, so the same cases run every time): no answer is a server error, and every
answer matches its documented status, content type, headers and schema. Each operation
runs with an operator token when operators may use it, else with a token of the first
role it allows, so the writes are exercised past the 403 too."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi import checks as oas_checks

from tests.api.conftest import bearer

CHECKS = [
    schemathesis.checks.not_a_server_error,
    oas_checks.status_code_conformance,
    oas_checks.content_type_conformance,
    oas_checks.response_headers_conformance,
    oas_checks.response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 12


def _fuzz(operation, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_api_conforms_to_its_openapi_document(app, tokens, platform) -> None:
    number = platform.official()["number"]  # so reads also meet real rows, with PII to mask
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    failures: list[str] = []
    for operation in operations:
        roles = operation.definition.raw["x-roles"]
        if roles == ["volunteer"]:  # the volunteer's own view: a fresh token each (its rate)
            token = platform.post(f"/api/volunteers/{number}/view-token", {}).get_json()["token"]
        else:
            token = tokens["operator" if "operator" in roles else roles[0]]
        try:
            _fuzz(operation, bearer(token))
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, report all
            failures.append(f"{operation.label}: {str(exc)[:3000]}")
    assert not failures, "\n\n".join(failures)
