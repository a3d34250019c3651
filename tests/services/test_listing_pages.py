"""Paging a list held in memory (a tuning job's trials, an AutoML job's candidates,
a pipeline execution's parameters): the same tokens the store's lists hand out."""

from __future__ import annotations

import pytest

from sagebox.services.errors import ValidationError
from sagebox.services.listing import page_of


def test_pages_follow_one_another_to_the_end() -> None:
    items = list(range(25))
    seen, request = [], {"MaxResults": 10}
    while True:
        page, token = page_of(items, request)
        seen.extend(page)
        if token is None:
            break
        request = {"MaxResults": 10, "NextToken": token}
    assert seen == items


def test_default_size_and_a_list_that_fits_one_page() -> None:
    assert page_of(list(range(12)), {}) == (list(range(10)), "10")
    assert page_of(list(range(12)), {}, default_size=50) == (list(range(12)), None)


@pytest.mark.parametrize("token", ["abc", "-5"])
def test_a_token_it_never_handed_out_is_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="Invalid pagination token"):
        page_of(list(range(5)), {"NextToken": token})
