"""Schemathesis against our own OpenAPI document: every operation, as a learner and as an admin.

Checks per response: no 5xx, and the body matches the documented schema (every error is the
`{"error": {"code", "message"}}` shape). Returns how many requests were sent and which failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance


@dataclass
class FuzzReport:
    requests: int = 0
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)


def fuzz(base_url: str, tokens: dict[str, str], examples_per_operation: int) -> FuzzReport:
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    report = FuzzReport()
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        for who, token in tokens.items():
            _run_operation(operation, base_url, who, token, examples_per_operation, session, report)
    return report


def _run_operation(operation, base_url: str, who: str, token: str, examples: int, session, report: FuzzReport) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(case=operation.as_strategy())
    def run(case) -> None:
        report.requests += 1
        try:
            case.call_and_validate(
                base_url=base_url,
                session=session,
                headers={"Authorization": f"Bearer {token}"},
                checks=[not_a_server_error, response_schema_conformance],
            )
        except AssertionError as exc:  # schemathesis reports failed checks as AssertionErrors
            if "Server error" in str(exc):
                report.server_errors += 1
            report.failures.append(f"{who} {case.method} {case.path}: {str(exc)[:400]}")

    run()
