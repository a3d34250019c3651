"""Artifacts: CreateArtifact / DescribeArtifact / ListArtifacts / UpdateArtifact / DeleteArtifact.

An artifact has no name of its own (ArtifactName is an optional label): it is named by its
ARN, ``arn:aws:sagemaker:<region>:<account>:artifact/<32 hex digits>``, and identified by
its Source. SageMaker keeps one artifact per source ("there can be only one artifact with a
unique SourceUri"), which DeleteArtifact relies on when it is given a Source instead of an
ARN; sagebox derives the 32-hex id from the Source (its SourceUri and SourceTypes), so two
requests for the same source meet at one stored record even when they race. Creating an
artifact whose Source another artifact has is an error, as for every lineage entity that
already exists; SageMaker's own (automatic) lineage reuses the existing artifact instead,
so a data set used by many jobs is one vertex of the graph.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sagebox.config import Settings
from sagebox.services.errors import ValidationError
from sagebox.services.families import ARTIFACT
from sagebox.services.lineage.entities import LineageEntityService
from sagebox.store import AlreadyExists, MetadataStore, ResourceRecord

MANUAL_ARTIFACTS_LIMIT = 6000


def artifact_id(source: dict[str, Any]) -> str:
    """The 32-hex id of the artifact of `source` (its URI and its source types, in any order)."""
    types = sorted(
        (t.get("SourceIdType", ""), t.get("Value", "")) for t in source.get("SourceTypes") or []
    )
    identity = json.dumps([source["SourceUri"], types], separators=(",", ":"))
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


class ArtifactService(LineageEntityService):
    family = ARTIFACT
    type_member = "ArtifactType"
    manual_limit = MANUAL_ARTIFACTS_LIMIT
    updatable = ("ArtifactName",)

    def __init__(self, settings: Settings, store: MetadataStore) -> None:
        super().__init__(settings, store)

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        source = _source(request["Source"])
        name = artifact_id(source)
        document = {
            "ArtifactName": request.get("ArtifactName"),
            "Source": source,
            "ArtifactType": request["ArtifactType"],
            "Properties": request.get("Properties") or {},
            "MetadataProperties": request.get("MetadataProperties"),
        }
        try:
            record = self.insert(name, document, automatic=False, tags=request.get("Tags"))
        except AlreadyExists as exc:
            raise self.already_exists(self.arn_of(name)) from exc
        return {"ArtifactArn": record.arn}

    def ensure(self, source_uri: str, artifact_type: str) -> ResourceRecord:
        """The artifact of `source_uri`, recorded by SageMaker itself unless one exists."""
        source = {"SourceUri": source_uri}
        document = {"Source": source, "ArtifactType": artifact_type}
        name = artifact_id(source)
        return self.find_or_insert(name, lambda: self.insert(name, document, automatic=True))

    def update(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.update_record(request["ArtifactArn"], request)
        return {"ArtifactArn": record.arn}

    def delete_artifact(self, request: dict[str, Any]) -> dict[str, Any]:
        """DeleteArtifact: by ArtifactArn or by Source (exactly one of them)."""
        arn, source = request.get("ArtifactArn"), request.get("Source")
        if (arn is None) == (source is None):
            raise ValidationError("Either ArtifactArn or Source must be specified, but not both.")
        if arn is not None:
            return self.delete_record(self.get(arn))
        return self.delete_record(self.get(self.arn_of(artifact_id(_source(source)))))


def _source(source: dict[str, Any]) -> dict[str, Any]:
    """An ArtifactSource as stored: the URI, and its source types when there are any."""
    stored: dict[str, Any] = {"SourceUri": source["SourceUri"]}
    if source.get("SourceTypes"):
        stored["SourceTypes"] = [dict(t) for t in source["SourceTypes"]]
    return stored
