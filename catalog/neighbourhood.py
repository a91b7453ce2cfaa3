"""Layout of a product's neighbourhood in the similarity graph, drawn by the product page as inline SVG.

The product sits in the centre and its SIMILAR_TO neighbours on a circle around it, like the seed
article's Neo4j Browser picture; a closer neighbour (higher cosine) is drawn nearer the centre.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from search.similarity import ProductMatch

SIZE_PX = 420
NODE_RADIUS_PX = 38


@dataclass(frozen=True)
class Node:
    x: float
    y: float
    label: str
    url: str


@dataclass(frozen=True)
class Edge:
    node: Node
    score: float
    label_x: float
    label_y: float


@dataclass(frozen=True)
class Neighbourhood:
    size_px: int
    node_radius_px: int
    centre: Node
    edges: list[Edge]


def _short(name: str, limit: int = 11) -> str:
    # About what fits across a node at the stylesheet's 10 px.
    return name if len(name) <= limit else name[: limit - 1] + "…"


def neighbourhood_layout(*, name: str, url: str, matches: Sequence[ProductMatch]) -> Neighbourhood:
    middle = SIZE_PX / 2
    outer = middle - NODE_RADIUS_PX - 4
    edges = []
    for i, match in enumerate(matches):
        # Start at the top and go clockwise; cosine 1 would sit at 55% of the way out, cosine 0 at the rim.
        angle = -math.pi / 2 + 2 * math.pi * i / len(matches)
        distance = outer * (1 - 0.45 * max(0.0, min(1.0, match.score)))
        x, y = middle + distance * math.cos(angle), middle + distance * math.sin(angle)
        node = Node(
            x=round(x, 1),
            y=round(y, 1),
            label=_short(match.product.name),
            url=match.product.get_absolute_url(),
        )
        edges.append(
            Edge(
                node=node,
                score=match.score,
                label_x=round((middle + x) / 2, 1),
                label_y=round((middle + y) / 2, 1),
            )
        )
    centre = Node(x=middle, y=middle, label=_short(name), url=url)
    return Neighbourhood(size_px=SIZE_PX, node_radius_px=NODE_RADIUS_PX, centre=centre, edges=edges)
