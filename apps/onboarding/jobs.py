"""The conformance check as a background job: the page that starts it polls its status instead of waiting on the
twenty-odd calls to the operator's platform inside the web request."""

from __future__ import annotations

from typing import Any

from apps.core.jobs import JobRunner, job_register

from .conformance import conformance_run


@job_register
class ConformanceJob(JobRunner):
    name = "conformance"

    def run(self, *, operator_id: str) -> dict[str, Any]:  # type: ignore[override]  # each runner names its own
        report = conformance_run(operator_id=operator_id, by=self.job.user)
        return {"report": report.pk, "passed": report.passed}
