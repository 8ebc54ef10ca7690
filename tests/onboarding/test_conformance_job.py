"""The conformance check runs as a background Job: the request only queues it, the page polls a JSON status, a
worker runs it, and the page then leads to the report; the job's pages keep to the operator scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.core.choices import JobStatus
from apps.core.jobs import RUNNERS, JobRunner, Recorder, enqueue_by, job_run
from apps.core.models import Job
from apps.core.tasks import job_run_task
from apps.onboarding.jobs import ConformanceJob
from apps.onboarding.models import ConformanceReport

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def _start(client, operator_id: str) -> tuple[Job, Recorder]:
    with enqueue_by(Recorder()) as sent:
        answer = client.post(reverse("admin:onboarding_conformancereport_run", args=[operator_id]))
    job = Job.objects.order_by("-pk").first()
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "admin:onboarding_conformancereport_job", args=[job.pk]
    )
    return job, sent


def test_the_request_only_queues_the_check_and_the_page_polls_its_status(client, regulator, directory, on_commit):
    client.force_login(regulator)
    with on_commit(execute=True):
        job, sent = _start(client, "123456789")
    # Nothing was asked of the platform in the request: no report, the job queued and handed to a worker.
    assert not ConformanceReport.objects.exists()
    assert (job.name, job.object_id, job.kwargs, job.user) == ("conformance", "123456789",
                                                               {"operator_id": "123456789"}, regulator)  # fmt: skip
    assert sent == [(job_run_task.name, (job.pk,), {}, {})]
    page = client.get(reverse("admin:onboarding_conformancereport_job", args=[job.pk]))
    status_url = reverse("admin:onboarding_conformancereport_job_status", args=[job.pk])
    assert page.status_code == 200 and status_url in page.content.decode() and "hlht/job.js" in page.content.decode()
    assert client.get(status_url).json() == {"status": "queued", "label": "排队中", "over": False, "error": ""}


def test_once_the_worker_ran_it_the_page_leads_to_the_report(client, regulator, directory):
    client.force_login(regulator)
    job, _ = _start(client, "123456789")
    assert job_run(job.pk) == JobStatus.DONE  # the operator has no endpoint: the report says so and fails
    assert job_run(job.pk) == "skipped"  # a redelivered message runs nothing twice
    job.refresh_from_db()
    report = ConformanceReport.objects.get()
    assert job.result == {"report": report.pk, "passed": False} and job.started and job.finished
    assert report.run_by == regulator  # the person who asked, not the worker
    status = client.get(reverse("admin:onboarding_conformancereport_job_status", args=[job.pk])).json()
    assert status["status"] == "done" and status["over"] is True
    page = client.get(reverse("admin:onboarding_conformancereport_job", args=[job.pk]))
    assert page["Location"] == reverse("admin:onboarding_conformancereport_change", args=[report.pk])
    assert "一致性检测未通过" in client.get(page["Location"]).content.decode()


def test_a_job_that_broke_shows_its_error_and_stops_polling(client, regulator, directory, monkeypatch):
    client.force_login(regulator)
    job, _ = _start(client, "123456789")

    def broken(self, **kwargs):
        raise RuntimeError("数据库不可用")

    monkeypatch.setattr(ConformanceJob, "run", broken)
    assert job_run(job.pk) == JobStatus.FAILED
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "RuntimeError: 数据库不可用" and job.finished
    page = client.get(reverse("admin:onboarding_conformancereport_job", args=[job.pk])).content.decode()
    assert "数据库不可用" in page and "hlht/job.js" not in page
    assert client.get(reverse("admin:onboarding_conformancereport_job_status", args=[job.pk])).json()["over"]


def test_another_operators_job_is_not_found(client, manager_a, directory, regulator):
    client.force_login(regulator)
    job, _ = _start(client, "MA59CU773")  # the other operator's check
    client.force_login(manager_a)
    assert client.get(reverse("admin:onboarding_conformancereport_job", args=[job.pk])).status_code == 404
    status_url = reverse("admin:onboarding_conformancereport_job_status", args=[job.pk])
    assert client.get(status_url).status_code == 404
    own, _ = _start(client, "123456789")
    assert client.get(reverse("admin:onboarding_conformancereport_job_status", args=[own.pk])).status_code == 200


def test_a_job_of_another_kind_is_not_a_conformance_page(client, regulator, directory):
    other = Job.objects.create(name="other", object_id="123456789")
    client.force_login(regulator)
    assert client.get(reverse("admin:onboarding_conformancereport_job", args=[other.pk])).status_code == 404
    assert RUNNERS["conformance"] is ConformanceJob and issubclass(ConformanceJob, JobRunner)


def test_a_job_whose_worker_died_runs_again_when_its_message_comes_back(client, regulator, directory):
    client.force_login(regulator)
    job, _ = _start(client, "123456789")
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, started=timezone.now())
    assert job_run(job.pk) == "skipped"  # still running somewhere: not twice at once
    long_ago = timezone.now() - timedelta(seconds=ConformanceJob.timeout + 1)
    Job.objects.filter(pk=job.pk).update(started=long_ago)
    assert job_run(job.pk) == JobStatus.DONE  # its worker died: the redelivered message runs it
    assert ConformanceReport.objects.count() == 1
