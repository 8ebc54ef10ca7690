"""Register a driver (or find one by phone), optionally credit a top-up, and print an API token for the driver API."""

from __future__ import annotations

import json
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.authtoken.models import Token

from apps.core.exceptions import HLHTError
from apps.drivers.choices import PaymentKind
from apps.drivers.models import Driver
from apps.drivers.selectors import balance_of
from apps.drivers.services import driver_register, wallet_top_up


class Command(BaseCommand):
    help = "Register an EV driver by phone (or find them), optionally top up their wallet, and print their API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--phone", required=True)
        parser.add_argument("--plate", default="")
        parser.add_argument("--enterprise", default="", help="bill this enterprise monthly instead of a wallet")
        parser.add_argument("--top-up", default="", help="元 to credit (a counter top-up, recorded as by this command)")

    def handle(self, *args: Any, **options: Any) -> None:
        payment = PaymentKind.ENTERPRISE if options["enterprise"] else PaymentKind.PREPAID
        try:
            driver = Driver.objects.filter(phone=options["phone"]).first() or driver_register(
                phone=options["phone"], plate=options["plate"], payment=payment, enterprise=options["enterprise"]
            )
            if options["top_up"]:
                try:
                    amount = Decimal(options["top_up"])
                except InvalidOperation:
                    raise CommandError("--top-up: 应为金额，如 100 或 50.5") from None
                wallet_top_up(
                    driver_id=driver.pk,
                    amount=amount,
                    key=f"command:{secrets.token_hex(8)}",
                    by="hlht_driver",
                    note="柜台充值",
                )
        except HLHTError as exc:
            raise CommandError(str(exc)) from None
        token, _ = Token.objects.get_or_create(user=driver.user)
        self.stdout.write(
            json.dumps(
                {"phone": driver.phone, "balance": str(balance_of(driver.pk)), "token": token.key}, ensure_ascii=False
            )
        )
