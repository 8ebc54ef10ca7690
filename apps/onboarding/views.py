"""Public pages (no login): the application form, its confirmation, and the status page by reference + e-mail."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_protect

from apps.core.conf import conf
from apps.core.exceptions import ValidationFailed

from .forms import ApplicationForm, StatusForm
from .selectors import application_overview
from .services import application_find, application_submit


def _over_limit(request: HttpRequest, what: str) -> bool:
    """Count one attempt from this address; True once it exceeds HLHT_APPLY_PER_HOUR within the hour."""
    key = f"onboarding:{what}:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > conf().supervision.applications_per_hour


def _too_many(request: HttpRequest, template: str, form) -> HttpResponse:
    context = {
        "form": form,
        "refused": f"同一地址每小时最多提交{conf().supervision.applications_per_hour}次，请稍后再试",
    }
    return render(request, template, context, status=429)


@csrf_protect
def apply(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "onboarding/apply.html", {"form": ApplicationForm()})
    form = ApplicationForm(request.POST)
    if _over_limit(request, "apply"):
        return _too_many(request, "onboarding/apply.html", form)
    if form.is_valid():
        try:
            application = application_submit(data=form.cleaned_data, address=request.META.get("REMOTE_ADDR"))
        except ValidationFailed as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.detail)
        else:
            return render(request, "onboarding/submitted.html", {"application": application})
    return render(request, "onboarding/apply.html", {"form": form}, status=400)


@csrf_protect
def status(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "onboarding/status.html", {"form": StatusForm()})
    form = StatusForm(request.POST)
    if _over_limit(request, "status"):
        return _too_many(request, "onboarding/status.html", form)
    context: dict = {"form": form}
    if form.is_valid():
        application = application_find(form.cleaned_data["reference"], form.cleaned_data["email"])
        if application is None:
            form.add_error(None, "没有找到该申请：请核对申请编号和联系邮箱")
        else:
            context["overview"] = application_overview(application)
    return render(request, "onboarding/status.html", context, status=200 if "overview" in context else 400)
