"""Decimal quantities as people read them, and whole numbers as clients write them."""

import sys
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


# PostgreSQL's bigint, the widest whole number a key or version column holds.
MAX_BIGINT = 2**63 - 1


def whole_number(value: Any, maximum: int | None = MAX_BIGINT) -> int | None:
    """ASCII digits naming a whole number up to `maximum` (None: as many digits as int() takes,
    4,300), else None.

    str.isdigit() alone would accept "²", which int() refuses; and int() refuses more than 4,300
    digits (ValueError), so a longer text is out of range before it is converted."""
    text = str(value)
    if not (text.isascii() and text.isdigit()):
        return None
    # Leading zeros count toward int()'s digit limit though they add nothing: drop them first.
    digits = text.lstrip("0") or "0"
    if maximum is not None:
        if len(digits) > len(str(maximum)):
            return None
    elif 0 < sys.get_int_max_str_digits() < len(digits):  # 0: the limit is off
        return None
    number = int(digits)
    return number if maximum is None or number <= maximum else None


def parse_decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
