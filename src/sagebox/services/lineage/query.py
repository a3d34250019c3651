"""QueryLineage: walk the association graph from a start ARN and answer its vertices and edges.

The walk is breadth first and reads the store one level at a time (the edges leaving, or
entering, every ARN of the level in one query), so only the part of the graph it reaches is
ever loaded. Ascendants follow edges backwards (to what a vertex came from), Descendants
forwards, Both either way from every vertex reached, as SageMaker describes it. MaxDepth
(10 by default) bounds the number of associations between the start and a result.

Filters narrow the answer, not the walk: Types (the entity's own type: DataSet, Model,
Endpoint, TrainingJob, ...), LineageTypes, created / modified before / after, and
Properties (any one pair matching is enough) must all hold for a vertex to be answered; the
walk goes on through vertices that do not match. Without IncludeEdges the answer is the
matching vertices reached (not the start); with it, also every vertex and edge on the way
from the start to them, the start included.

Vertices come in walk order (by depth, then ARN). MaxResults pages them; when it is not
given every vertex comes in one answer, as the SDK (which never pages) needs. Each edge
comes with the page holding the later of its two ends.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sagebox.services.errors import ResourceNotFound, ValidationError
from sagebox.services.lineage.entities import epoch
from sagebox.services.lineage.vertices import LINEAGE_TYPES, Vertex, VertexResolver, resource_type
from sagebox.store import ResourceRecord
from sagebox.store.associations import AssociationRepository

DEFAULT_MAX_DEPTH = 10
ASCENDANTS, DESCENDANTS, BOTH = "Ascendants", "Descendants", "Both"


@dataclass(frozen=True)
class Step:
    """One association the walk followed, from a vertex it had reached to a neighbour."""

    origin: str
    reached: str
    edge: dict[str, Any]


class LineageQuery:
    def __init__(self, edges: AssociationRepository, vertices: VertexResolver) -> None:
        self._edges = edges
        self._vertices = vertices

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        starts = list(dict.fromkeys(request.get("StartArns") or []))
        direction = request.get("Direction") or BOTH
        max_depth = request.get("MaxDepth", DEFAULT_MAX_DEPTH)
        if max_depth < 0:
            raise ValidationError(f"MaxDepth must be between 0 and 10; {max_depth} was given.")
        page_size = request.get("MaxResults")
        if page_size is not None and page_size < 1:
            raise ValidationError(f"MaxResults must be between 1 and 50; {page_size} was given.")
        offset = _offset(request)
        known = self._vertices.resolve(starts)
        for arn in starts:
            if arn not in known:
                raise ResourceNotFound(f"Start ARN '{arn}' does not exist.")
        depths, steps, types = self._walk(starts, direction, max_depth)
        filters = request.get("Filters") or {}
        reached = [arn for arn in depths if depths[arn] > 0]
        details = self._details(reached, types, filters)
        matched = {arn for arn in reached if _matches(details[arn], filters)}
        include_edges = bool(request.get("IncludeEdges"))
        answered = _on_the_way(matched, steps, starts) if include_edges else matched
        order = sorted(answered, key=lambda arn: (depths[arn], arn))
        details.update({arn: known[arn] for arn in starts})
        end = len(order) if page_size is None else offset + page_size
        page = order[offset:end]
        answer: dict[str, Any] = {"Vertices": [_vertex(details[arn]) for arn in page]}
        answer["Edges"] = _edges_of(page, order, steps) if include_edges else []
        if end < len(order):
            answer["NextToken"] = _token(request, end)
        return answer

    def _walk(
        self, starts: list[str], direction: str, max_depth: int
    ) -> tuple[dict[str, int], list[Step], dict[str, str]]:
        """Every vertex reached (with its depth), the steps taken, and the types edges told."""
        depths = {arn: 0 for arn in starts}
        steps: list[Step] = []
        types: dict[str, str] = {}
        frontier = set(starts)
        for depth in range(1, max_depth + 1):
            if not frontier:
                break
            found: list[tuple[str, str, ResourceRecord]] = []
            if direction in (DESCENDANTS, BOTH):
                found += [
                    (e.document["SourceArn"], e.document["DestinationArn"], e)
                    for e in self._edges.outgoing(frontier)
                ]
            if direction in (ASCENDANTS, BOTH):
                found += [
                    (e.document["DestinationArn"], e.document["SourceArn"], e)
                    for e in self._edges.incoming(frontier)
                ]
            frontier = set()
            for origin, neighbour, record in found:
                document = record.document
                for role in ("Source", "Destination"):
                    if document.get(f"{role}Type"):
                        types[document[f"{role}Arn"]] = document[f"{role}Type"]
                steps.append(Step(origin, neighbour, document))
                if neighbour not in depths:
                    depths[neighbour] = depth
                    frontier.add(neighbour)
        return depths, steps, types

    def _details(
        self, arns: list[str], types: dict[str, str], filters: dict[str, Any]
    ) -> dict[str, Vertex]:
        """The vertices reached: from the store when a filter needs times or properties,
        otherwise from what the edges say (their ARN and the types stored on them)."""
        needs_records = any(
            filters.get(member)
            for member in (
                "CreatedBefore",
                "CreatedAfter",
                "ModifiedBefore",
                "ModifiedAfter",
                "Properties",
            )
        )
        stored = self._vertices.resolve(arns) if needs_records else {}
        return {
            arn: stored.get(arn)
            or Vertex(arn, LINEAGE_TYPES.get(resource_type(arn)), types.get(arn), None)
            for arn in arns
        }


def _matches(vertex: Vertex, filters: dict[str, Any]) -> bool:
    if filters.get("Types") and vertex.type not in filters["Types"]:
        return False
    if filters.get("LineageTypes") and vertex.lineage_type not in filters["LineageTypes"]:
        return False
    bounds = (
        ("CreatedBefore", vertex.creation_time, -1),
        ("CreatedAfter", vertex.creation_time, 1),
        ("ModifiedBefore", vertex.last_modified_time, -1),
        ("ModifiedAfter", vertex.last_modified_time, 1),
    )
    for member, value, side in bounds:
        moment: datetime | None = filters.get(member)
        if moment is None:
            continue
        if value is None or (value - epoch(moment)) * side <= 0:
            return False
    wanted: dict[str, str] = filters.get("Properties") or {}
    return not wanted or any(vertex.properties.get(key) == value for key, value in wanted.items())


def _on_the_way(matched: set[str], steps: list[Step], starts: list[str]) -> set[str]:
    """The matched vertices, the start, and every vertex on a step leading to one of them."""
    arriving: dict[str, list[str]] = {}
    for step in steps:
        arriving.setdefault(step.reached, []).append(step.origin)
    kept = set(matched)
    pending = list(matched)
    while pending:
        for previous in arriving.get(pending.pop(), []):
            if previous not in kept:
                kept.add(previous)
                pending.append(previous)
    return kept | set(starts)


def _edges_of(page: list[str], order: list[str], steps: list[Step]) -> list[dict[str, Any]]:
    """The edges between answered vertices whose later end (in answer order) is on `page`."""
    position = {arn: index for index, arn in enumerate(order)}
    on_page = set(page)
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    for step in steps:
        source, destination = step.edge["SourceArn"], step.edge["DestinationArn"]
        if source not in position or destination not in position:
            continue
        later = source if position[source] > position[destination] else destination
        if later in on_page:
            edge = {"SourceArn": source, "DestinationArn": destination}
            if step.edge.get("AssociationType"):
                edge["AssociationType"] = step.edge["AssociationType"]
            edges[(source, destination)] = edge
    return list(edges.values())


def _vertex(vertex: Vertex) -> dict[str, Any]:
    answer: dict[str, Any] = {"Arn": vertex.arn}
    if vertex.type:
        answer["Type"] = vertex.type
    if vertex.lineage_type:
        answer["LineageType"] = vertex.lineage_type
    return answer


def _fingerprint(request: dict[str, Any]) -> str:
    asked = {k: v for k, v in request.items() if k not in ("NextToken", "MaxResults")}
    text = json.dumps(asked, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _token(request: dict[str, Any], offset: int) -> str:
    payload = json.dumps({"q": _fingerprint(request), "o": offset}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode()


def _offset(request: dict[str, Any]) -> int:
    token = request.get("NextToken")
    if not token:
        return 0
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
        offset = payload["o"]
        valid = payload["q"] == _fingerprint(request) and isinstance(offset, int) and offset >= 0
    except (binascii.Error, UnicodeError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"Invalid pagination token: {token!r}") from exc
    if not valid:
        raise ValidationError(f"Invalid pagination token: {token!r} was issued for another query.")
    return offset
