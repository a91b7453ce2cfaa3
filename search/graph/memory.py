"""An in-memory graph store for fast unit tests only: exact cosine over a dict, no Neo4j.

It keeps the contract the Neo4j store keeps (tests/search/graph/test_contract.py runs against both)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from search.graph.base import (
    FilteredHits,
    GraphStats,
    GraphStore,
    ImageHit,
    ImageRecord,
    ImageShape,
    Neighbour,
    ProductFilter,
    ProductRecord,
    SimilarEdge,
)
from search.graph.catalog_shape import CatalogShape, FilterCell, price_bucket


class InMemoryGraphStore(GraphStore):
    def __init__(self) -> None:
        self.dimensions: dict[str, int] = {}  # per model, like Neo4j's one vector index per model
        self.serving: str | None = None
        self.product_nodes: dict[int, ProductRecord] = {}
        self.images: dict[tuple[str, int], ImageRecord] = {}  # (model, image_id)
        self.similar: dict[str, dict[int, dict[int, float]]] = {}  # model -> source -> target -> score

    @classmethod
    def from_settings(cls, settings: Any) -> InMemoryGraphStore:
        return cls()

    def ensure_schema(self, *, model: str, dimensions: int, vector_index: bool = True) -> None:
        # Like a recreated vector index: vectors of the old size stay on their nodes (check_graph reports
        # them) but no search finds them.
        self.dimensions[model] = dimensions
        self.serving = self.serving or model

    def vector_index_rebuild(self, *, model: str, dimensions: int, even_if_served: bool = False) -> None:
        if model == self.serving and not even_if_served:
            raise ValueError(f"{model} is being served")
        self.dimensions[model] = dimensions

    def serving_model(self) -> str | None:
        return self.serving

    def serving_switch(self, model: str) -> None:
        self.serving = model

    def model_drop(self, model: str) -> None:
        self.images = {key: i for key, i in self.images.items() if key[0] != model}
        self.similar.pop(model, None)
        self.dimensions.pop(model, None)

    def image_models(self) -> set[str]:
        return {model for model, _ in self.images}

    def image_vectors(self, product_id: int, *, model: str) -> list[list[float]]:
        found = sorted(
            (i.image_id, i) for (m, _), i in self.images.items() if m == model and i.product_id == product_id
        )
        return [list(i.embedding) for _, i in found]

    def upsert_products(self, products: Sequence[ProductRecord]) -> None:
        self.product_nodes.update({p.product_id: p for p in products})

    def products_with_stale_filters(self, products: Sequence[ProductRecord]) -> set[int]:
        # Images here read their product's record, so only the product itself can be stale.
        def filters(p: ProductRecord) -> tuple[object, ...]:
            return (p.category, p.category_slug, float(p.price), p.in_stock)

        return {
            p.product_id
            for p in products
            if p.product_id in self.product_nodes and filters(self.product_nodes[p.product_id]) != filters(p)
        }

    def upsert_images(self, images: Sequence[ImageRecord]) -> None:
        for image in images:  # Neo4j MERGEs the product: a bare node until its properties are upserted
            self.product_nodes.setdefault(image.product_id, _bare_product(image.product_id))
        self.images.update({(i.model, i.image_id): i for i in images})

    def delete_images(self, image_ids: Sequence[int]) -> None:
        gone = set(image_ids)
        self.images = {key: i for key, i in self.images.items() if key[1] not in gone}

    def delete_products(self, product_ids: Sequence[int]) -> None:
        gone = set(product_ids)
        self.images = {k: v for k, v in self.images.items() if v.product_id not in gone}
        for product_id in gone:
            self.product_nodes.pop(product_id, None)
        for lists in self.similar.values():
            for product_id in gone:
                lists.pop(product_id, None)
            for edges in lists.values():
                for product_id in gone:
                    edges.pop(product_id, None)

    def nearest_images_many(
        self, vectors: Sequence[Sequence[float]], *, k: int, model: str
    ) -> list[list[ImageHit]]:
        return [self._ranked(np.asarray(v, dtype=np.float64), model=model)[:k] for v in vectors]

    def nearest_images_filtered(
        self,
        vector: Sequence[float],
        *,
        k: int,
        model: str,
        where: ProductFilter,
        search_k: int | None = None,  # an exact ranking needs no deeper search
    ) -> FilteredHits:
        # As Neo4j's index: category, price and stock filter during the search (the k nearest that pass);
        # excluded products are dropped from those k afterwards.
        in_index = replace(where, exclude_ids=())
        ranked = self._ranked(np.asarray(vector, dtype=np.float64), model=model)
        candidates = [hit for hit in ranked if self._passes(hit, in_index)][:k]
        return FilteredHits(
            hits=[h for h in candidates if h.product_id not in where.exclude_ids], candidates=len(candidates)
        )

    def nearest_products_exact(
        self, vector: Sequence[float], *, k: int, model: str, where: ProductFilter, min_score: float | None
    ) -> list[ImageHit]:
        best: dict[int, ImageHit] = {}
        for hit in self._ranked(np.asarray(vector, dtype=np.float64), model=model):
            if self._passes(hit, where) and (min_score is None or hit.score >= min_score):
                best.setdefault(hit.product_id, hit)
        return sorted(best.values(), key=lambda h: (-h.score, h.product_id))[:k]

    def _passes(self, hit: ImageHit, where: ProductFilter) -> bool:
        return hit.product_id in self.product_nodes and where.matches(self.product_nodes[hit.product_id])

    def _ranked(self, query: np.ndarray, *, model: str) -> list[ImageHit]:
        hits = [
            ImageHit(image_id=i.image_id, product_id=i.product_id, score=float(np.dot(query, i.embedding)))
            for i in self.images.values()
            if i.model == model and len(i.embedding) == len(query)  # see ensure_schema
        ]
        return sorted(hits, key=lambda h: (-h.score, h.image_id))

    def similar_replace(self, product_id: int, neighbours: Sequence[Neighbour], *, model: str) -> None:
        lists = self.similar.setdefault(model, {})
        lists[product_id] = {n.product_id: n.score for n in neighbours if n.product_id in self.product_nodes}

    def similar_offer(
        self, product_id: int, neighbours: Sequence[Neighbour], *, model: str, keep: int
    ) -> None:
        if product_id not in self.product_nodes:
            return
        lists = self.similar.setdefault(model, {})
        for n in neighbours:
            if n.product_id not in self.product_nodes:
                continue  # Neo4j links existing product nodes only
            edges = lists.setdefault(n.product_id, {})
            edges[product_id] = n.score
            lists[n.product_id] = dict(sorted(edges.items(), key=lambda e: -e[1])[:keep])

    def similar_list(
        self,
        product_id: int,
        *,
        limit: int,
        offset: int = 0,
        where: ProductFilter = ProductFilter(),
        min_score: float | None = None,
        model: str | None = None,
    ) -> list[Neighbour]:
        edges: dict[int, float] = {}
        for m, lists in self.similar.items():
            if model is None or m == model:
                edges.update(lists.get(product_id, {}))
        ranked = sorted(edges.items(), key=lambda e: (-e[1], e[0]))
        kept = [
            Neighbour(product_id=p, score=s)
            for p, s in ranked
            if p in self.product_nodes
            and where.matches(self.product_nodes[p])
            and (min_score is None or s >= min_score)
        ]
        return kept[offset : offset + limit]

    def similar_sources(self, product_id: int) -> list[int]:
        return sorted(
            {s for lists in self.similar.values() for s, edges in lists.items() if product_id in edges}
        )

    def products(self) -> list[ProductRecord]:
        return list(self.product_nodes.values())

    def catalog_shape(self) -> CatalogShape:
        cells = Counter(
            (p.category_slug, p.in_stock, None if math.isnan(p.price) else price_bucket(p.price))
            for p in self.product_nodes.values()
        )
        return CatalogShape.of(FilterCell(c, s, b, n) for (c, s, b), n in cells.items())

    def model_image_count(self, model: str) -> int:
        return sum(1 for m, _ in self.images if m == model)

    def stats(self) -> GraphStats:
        serving = self.serving
        return GraphStats(
            products=len(self.product_nodes),
            images=sum(1 for m, _ in self.images if m == serving),
            similar_edges=sum(len(e) for e in self.similar.get(serving or "", {}).values()),
            vector_index=f"ONLINE {self.dimensions[serving]}d cosine"
            if serving in self.dimensions
            else "missing",
            serving_model=serving,
        )

    def clear(self) -> None:
        self.product_nodes.clear()
        self.images.clear()
        self.similar.clear()
        self.serving = None

    # --- Consistency checks (search/consistency.py) -------------------------------------------------------

    def image_shapes(self) -> list[ImageShape]:
        return [
            ImageShape(
                image_id=i.image_id,
                product_id=i.product_id if i.product_id in self.product_nodes else None,
                model=i.model,
                dimensions=len(i.embedding),
            )
            for i in self.images.values()
        ]

    def similar_edges(self) -> list[SimilarEdge]:
        return [
            SimilarEdge(source_id=s, target_id=t)
            for lists in self.similar.values()
            for s, edges in lists.items()
            for t in edges
        ]

    def similar_delete(self, edges: Sequence[SimilarEdge]) -> None:
        for lists in self.similar.values():
            for edge in edges:
                lists.get(edge.source_id, {}).pop(edge.target_id, None)


def _bare_product(product_id: int) -> ProductRecord:
    # Neo4j's bare node has no properties (nulls); these values, like nulls, pass no filter but the empty one.
    return ProductRecord(
        product_id=product_id,
        name="",
        slug="",
        category="",
        category_slug="",
        price=math.nan,
        in_stock=None,  # type: ignore[arg-type]
    )
