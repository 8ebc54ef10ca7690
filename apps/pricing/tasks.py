"""Celery tasks of pricing: ask one connector's policy for a driver's page (out of the web request)."""

from celery import shared_task

from .services import connector_policy_ask


@shared_task
def connector_policy_ask_task(connector_id: int) -> str:
    return connector_policy_ask(connector_id=connector_id)
