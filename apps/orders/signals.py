"""What apps above orders may hook: `order_stored` is sent inside the transaction that stores an order's revision."""

from django.dispatch import Signal

# Sent with order=ChargeOrder, interface=OrderInterface value, revision=int, when a new revision (not a repeat) was
# stored. Receivers run in the same transaction: what they write commits with the order, and an error undoes both.
order_stored = Signal()
