"""Endpoint requests beyond the model's constraints that need no state to check."""

from __future__ import annotations

from typing import Any

from sagebox.services.errors import ValidationError


def check_desired_weights(desired: list[dict[str, Any]]) -> None:
    """UpdateEndpointWeightsAndCapacities names each variant at most once."""
    names = [entry["VariantName"] for entry in desired]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValidationError(
            f'The variant name(s) "[{", ".join(repeated)}]" is/are non-unique within the request.'
        )
