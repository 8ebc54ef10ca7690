"""The payment is hooked to the order push: the driver is charged in the transaction that stores the order."""

from django.dispatch import receiver

from apps.orders.signals import order_stored

from .services import order_pay


@receiver(order_stored, dispatch_uid="charging.order_pay")
def _order_stored(sender, *, order, interface, revision, **kwargs) -> None:
    order_pay(order=order, interface=interface, revision=revision)
