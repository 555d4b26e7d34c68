"""Decimal quantities as people read them."""

from decimal import Decimal, InvalidOperation
from typing import Any


def decimal_string(value: Any) -> str | None:
    """`Decimal("125.6700000000")` -> `"125.67"`, never with an exponent."""
    if value is None:
        return None
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "") else text


def quantity_text(value: Any) -> str:
    """A quantity in a message: `decimal_string`, and "0" for none."""
    return decimal_string(value) or "0"


def as_number(value: Any) -> int | float | None:
    if value is None:
        return None
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def parse_decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
