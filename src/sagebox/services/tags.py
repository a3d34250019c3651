"""AddTags / ListTags / DeleteTags on any SageMaker resource, by ARN."""

from __future__ import annotations

from typing import Any

from sagebox.services.errors import ResourceLimitExceeded, ValidationError
from sagebox.services.families import family_of_arn
from sagebox.store import MetadataStore

MAX_TAGS = 50


class TagService:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def _require_resource(self, arn: str) -> None:
        family = family_of_arn(arn)
        if family is None or self._store.resources(family.kind).get_by_arn(arn) is None:
            raise ValidationError(f"Resource {arn} does not exist.")

    def add(self, arn: str, tags: list[dict[str, str]]) -> dict[str, Any]:
        self._require_resource(arn)
        current = {t["Key"] for t in self._store.tags.list(arn)}
        if len(current | {t["Key"] for t in tags}) > MAX_TAGS:
            raise ResourceLimitExceeded(f"A resource can have at most {MAX_TAGS} tags.")
        self._store.tags.add(arn, tags)
        return {"Tags": tags}

    def list(self, arn: str, max_results: int | None, next_token: str | None) -> dict[str, Any]:
        self._require_resource(arn)
        tags = self._store.tags.list(arn)
        start = 0
        if next_token:
            try:
                start = int(next_token)
            except ValueError as exc:
                raise ValidationError(f"Invalid NextToken '{next_token}'.") from exc
        size = max_results or 50
        page = tags[start : start + size]
        token = str(start + size) if start + size < len(tags) else None
        return {"Tags": page, "NextToken": token}

    def delete(self, arn: str, keys: list[str]) -> dict[str, Any]:
        self._require_resource(arn)
        self._store.tags.delete(arn, keys)
        return {}
