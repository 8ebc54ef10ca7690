"""Public onboarding URLs (/apply/)."""

from django.urls import path

from . import views

app_name = "onboarding"
urlpatterns = [
    path("", views.apply, name="apply"),
    path("status/", views.status, name="status"),
]
