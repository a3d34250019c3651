"""Decimal numbers in headers, query strings and XML, read without trusting their length."""

from __future__ import annotations

# No size, offset or count in S3 comes near 19 digits (5 TB objects, 10,000 parts).
MAX_DIGITS = 19
BEYOND_ANY = 10**MAX_DIGITS


def decimal(text: str) -> int | None:
    """A non-negative ASCII decimal number; None when `text` is not one.

    A number of more than MAX_DIGITS digits reads as BEYOND_ANY, so a header of
    thousands of digits is never converted (nor refused by Python's digit limit).
    """
    text = text.strip()
    if not text or not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0") or "0"
    return BEYOND_ANY if len(digits) > MAX_DIGITS else int(digits)
