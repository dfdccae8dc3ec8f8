"""Small helpers every domain uses: settings, local dates, numbers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask import current_app

from service.config import Settings
from service.db import utcnow


def settings() -> Settings:
    return current_app.config["GOALFLOW"]


def local_today(now: datetime | None = None) -> date:
    """Dates that people see (substitutions, deadlines) are in the administration's time zone."""
    return (now or utcnow()).astimezone(ZoneInfo(settings().TIMEZONE)).date()


def parse_decimal(value) -> Decimal | None:
    """A number as Bulgarian documents write it: "146 305,48", "2", 3.5. None when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    text = str(value).replace("\u00a0", "").replace(" ", "").replace(",", ".").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
