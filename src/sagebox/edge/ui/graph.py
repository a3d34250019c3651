"""A directed graph laid out in layers and drawn as SVG on the server: a model's lineage, a
pipeline's steps.

Nodes go in columns (layers) from left to right: by distance from a start vertex (lineage:
what it came from on the left, what came of it on the right) or by longest path from the
graph's sources (a pipeline: a step right of everything it waits for). Within a column,
nodes are ordered by the mean row of their neighbours in the column before (one barycentre
sweep each way), which keeps most edges short and uncrossed on graphs of this size. Edges
are cubic curves from a node's right side to the next node's left side.

Written here rather than taken from a library: the graphs are tens of nodes, the layout
is a few dozen lines, and Graphviz would be a system program to install and run per page.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

NODE_WIDTH, NODE_HEIGHT = 200, 46
COLUMN_GAP, ROW_GAP = 90, 22
MARGIN = 16
LABEL_CHARS = 26
# Where an edge's label sits: the point at t = 0.3 of its curve, as fractions of the way
# from source to target in x and y (the Bézier's control points are level with its ends).
LABEL_AT = (0.3 * 0.7 * 0.7 * 1.5 + 0.7 * 0.09 * 1.5 + 0.027, 3 * 0.09 - 2 * 0.027)


@dataclass
class Node:
    id: str
    label: str
    kind: str = ""  # shown under the label (an entity's type, a step's type)
    href: str | None = None
    css: str = "plain"  # a status class (good, busy, bad, plain) or a lineage type
    title: str = ""  # the tooltip: the full name or ARN
    start: bool = False
    x: float = 0.0
    y: float = 0.0
    layer: int = 0

    @property
    def short(self) -> str:
        return _clip(self.label)

    @property
    def short_kind(self) -> str:
        return _clip(self.kind)


@dataclass
class Edge:
    source: str
    target: str
    label: str = ""
    path: str = ""
    label_x: float = 0.0
    label_y: float = 0.0


@dataclass
class Drawing:
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int
    columns: int = field(default=0)


def _clip(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def distance_layers(start: str, nodes: Iterable[str], edges: Iterable[Edge]) -> dict[str, int]:
    """Each node's signed distance from `start`: forward along edges +1, backward -1
    (breadth first, so a node takes the first distance it is reached at). Nodes the
    walk does not reach go in the start's column."""
    forward: dict[str, list[str]] = defaultdict(list)
    backward: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        forward[edge.source].append(edge.target)
        backward[edge.target].append(edge.source)
    layers = {start: 0}
    queue = deque([start])
    while queue:
        here = queue.popleft()
        for there in forward[here]:
            if there not in layers:
                layers[there] = layers[here] + 1
                queue.append(there)
        for there in backward[here]:
            if there not in layers:
                layers[there] = layers[here] - 1
                queue.append(there)
    return {node: layers.get(node, 0) for node in nodes}


def longest_path_layers(nodes: Iterable[str], edges: Iterable[Edge]) -> dict[str, int]:
    """Each node's longest path from a source (a node nothing points to), so every edge
    goes rightwards. Edges closing a cycle (which a valid pipeline has not) are ignored."""
    order = list(nodes)
    incoming: dict[str, list[str]] = defaultdict(list)
    outgoing: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        if edge.source != edge.target:
            outgoing[edge.source].append(edge.target)
            incoming[edge.target].append(edge.source)
    waiting = {node: len(incoming[node]) for node in order}
    layers = dict.fromkeys(order, 0)
    ready = deque(node for node in order if waiting[node] == 0)
    done: set[str] = set()
    while ready:
        here = ready.popleft()
        done.add(here)
        for there in outgoing[here]:
            layers[there] = max(layers[there], layers[here] + 1)
            waiting[there] -= 1
            if waiting[there] == 0:
                ready.append(there)
    for node in order:  # on a cycle: right of what is known before it
        if node not in done:
            known = [layers[p] for p in incoming[node] if p in done]
            layers[node] = max(known, default=-1) + 1
    return layers


def layout(nodes: list[Node], edges: list[Edge], layers: dict[str, int]) -> Drawing:
    """Positions for `nodes` in the columns `layers` gives, and a path for each edge whose
    two ends are both drawn."""
    by_id = {node.id: node for node in nodes}
    edges = [e for e in edges if e.source in by_id and e.target in by_id]
    first = min((layers[n.id] for n in nodes), default=0)
    columns: dict[int, list[Node]] = defaultdict(list)
    for node in nodes:
        node.layer = layers[node.id] - first
        columns[node.layer].append(node)
    neighbours: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        neighbours[edge.source].append(edge.target)
        neighbours[edge.target].append(edge.source)
    count = max(columns, default=-1) + 1
    rows = {node.id: float(i) for column in columns.values() for i, node in enumerate(column)}
    for sweep in (range(1, count), range(count - 2, -1, -1)):
        for index in sweep:
            column = columns[index]
            beside = index - 1 if sweep.step == 1 else index + 1

            def centre(node: Node, beside: int = beside) -> float:
                near = [rows[n] for n in neighbours[node.id] if by_id[n].layer == beside]
                return sum(near) / len(near) if near else rows[node.id]

            column.sort(key=centre)
            for i, node in enumerate(column):
                rows[node.id] = float(i)
    tallest = max((len(c) for c in columns.values()), default=0)
    height = 2 * MARGIN + tallest * NODE_HEIGHT + max(0, tallest - 1) * ROW_GAP
    for index, column in columns.items():
        # each column centred vertically
        offset = (tallest - len(column)) * (NODE_HEIGHT + ROW_GAP) / 2
        for i, node in enumerate(column):
            node.x = MARGIN + index * (NODE_WIDTH + COLUMN_GAP)
            node.y = MARGIN + offset + i * (NODE_HEIGHT + ROW_GAP)
    for edge in edges:
        source, target = by_id[edge.source], by_id[edge.target]
        x1, y1 = source.x + NODE_WIDTH, source.y + NODE_HEIGHT / 2
        x2, y2 = target.x, target.y + NODE_HEIGHT / 2
        if target.layer <= source.layer:  # backwards or within a column: loop around
            x1, x2 = source.x + NODE_WIDTH / 2, target.x + NODE_WIDTH / 2
            y1, y2 = source.y + NODE_HEIGHT, target.y + NODE_HEIGHT
            bend = NODE_HEIGHT
            edge.path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 + bend:.1f} {x2:.1f},{y2:.1f}"
        else:
            bend = (x2 - x1) / 2
            edge.path = f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        # the label a third of the way along (where converging edges are still apart)
        edge.label_x = x1 + (x2 - x1) * LABEL_AT[0]
        edge.label_y = y1 + (y2 - y1) * LABEL_AT[1] - 4
    width = 2 * MARGIN + count * NODE_WIDTH + max(0, count - 1) * COLUMN_GAP
    return Drawing(nodes, edges, int(width), int(height), count)
