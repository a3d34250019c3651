"""Notebook instance lifecycle configurations: OnCreate / OnStart shell scripts, base64 as
in the API (one script each, at most 16384 characters), run by services/notebooks/instances.py."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from sagebox.services.errors import ValidationError
from sagebox.services.families import NOTEBOOK_INSTANCE_LIFECYCLE_CONFIG
from sagebox.services.job_states import to_datetime
from sagebox.services.resources import RecordService
from sagebox.store import NotFound, ResourceRecord

PHASES = ("OnCreate", "OnStart")


def scripts_of(request: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """The request's OnCreate / OnStart lists, each content checked to be base64."""
    found: dict[str, list[dict[str, str]]] = {}
    for phase in PHASES:
        if phase not in request:
            continue
        for hook in request[phase]:
            try:
                base64.b64decode(hook["Content"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValidationError(
                    f"{phase} Content must be the script encoded in base64; {hook['Content'][:40]!r} is not."
                ) from exc
        found[phase] = list(request[phase])
    return found


def decoded(document: dict[str, Any], phase: str) -> str | None:
    """The script of one phase as text, None when the configuration has none."""
    hooks = document.get(phase) or []
    return base64.b64decode(hooks[0]["Content"]).decode("utf-8", "replace") if hooks else None


class NotebookInstanceLifecycleConfigService(RecordService):
    family = NOTEBOOK_INSTANCE_LIFECYCLE_CONFIG

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["NotebookInstanceLifecycleConfigName"]
        document: dict[str, Any] = {**scripts_of(request), "LastModifiedTime": time.time()}
        try:
            record = self._insert(name, document, tags=request.get("Tags"))
        except ValidationError as exc:
            raise ValidationError(
                f"Unable to create Notebook Instance Lifecycle Config {self.arn_of(name)}: "
                "a lifecycle configuration with that name already exists."
            ) from exc
        return {"NotebookInstanceLifecycleConfigArn": record.arn}

    def get(self, name: str) -> ResourceRecord:
        record = self._repo.get(name)
        if record is None:
            raise ValidationError(
                f"Unable to describe Notebook Instance Lifecycle Config '{self.arn_of(name)}' because it does not exist."
            )
        return record

    def update(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["NotebookInstanceLifecycleConfigName"]
        self.get(name)
        scripts = scripts_of(request)

        def change(record: ResourceRecord) -> None:
            now = time.time()
            record.document.update(scripts)
            record.document["LastModifiedTime"] = now
            record.last_modified_time = to_datetime(now)

        try:
            self._repo.modify(name, change)
        except NotFound:
            self.get(name)
        return {}
