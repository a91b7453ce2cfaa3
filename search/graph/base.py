"""The graph store interface: the only way the rest of Lookalike talks to the similarity graph.

Scores crossing this interface are always cosine similarities in [-1, 1], whatever the store's own scale.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.errors import ServiceError
from core.filters import ProductFilter
from search.graph.catalog_shape import CatalogShape


class GraphUnavailable(ServiceError, RuntimeError):
    """The graph store cannot be reached; catalog writes go on and sync later."""

    http_status = 503
    code = "search_unavailable"
    public_message = "Search is temporarily unavailable. Please try again in a minute."
    retry_after_s: int | None = 30


class GraphMisconfigured(GraphUnavailable):
    """The graph store refuses Lookalike's settings (wrong password, unknown database): no retry helps.
    Still a GraphUnavailable, so catalog writes go on and sync once the settings are fixed."""

    http_status = 500
    code = "search_misconfigured"
    public_message = "Search is misconfigured on the server."
    retry_after_s = None


@dataclass(frozen=True)
class ProductRecord:
    product_id: int
    name: str
    slug: str
    category: str
    category_slug: str
    price: float
    in_stock: bool


@dataclass(frozen=True)
class FilteredHits:
    hits: list[ImageHit]  # candidates whose product passes the filter, best first
    candidates: int  # how many the index returned (passing its filters) before exclusions: fewer than k means it ran out


@dataclass(frozen=True)
class ImageRecord:
    image_id: int
    product_id: int
    path: str
    embedding: Sequence[float]
    model: str


@dataclass(frozen=True)
class ImageHit:
    image_id: int
    product_id: int
    score: float


@dataclass(frozen=True)
class Neighbour:
    product_id: int
    score: float


@dataclass(frozen=True)
class GraphStats:
    products: int
    images: int
    similar_edges: int
    vector_index: str  # the serving model's index, e.g. "ONLINE 1280d cosine", or "missing"
    serving_model: str | None = None


class GraphStore(ABC):
    """Each backbone (model) has its own image nodes and vector index, so a new backbone can be loaded
    beside the one being served and switched to at once (`serving_switch`): searches never mix vectors."""

    @abstractmethod
    def ensure_schema(self, *, model: str, dimensions: int, vector_index: bool = True) -> None:
        """Constraints and the model's vector index, recreated if its dimensions differ; waits until online.
        The first model given to an empty graph becomes the serving one. `vector_index=False`: constraints
        only, for a version whose index `vector_index_rebuild` builds once all its vectors are written."""

    @abstractmethod
    def vector_index_rebuild(self, *, model: str, dimensions: int, even_if_served: bool = False) -> None:
        """Build a model's index afresh over its loaded vectors: one population writes one large HNSW
        graph, which answers faster than the many small segments of vectors added one batch at a time.
        Refused for the served model, whose searches would stop until it is online."""

    @abstractmethod
    def serving_model(self) -> str | None:
        """The model whose vectors searches and similar items read; None before any schema exists."""

    @abstractmethod
    def serving_switch(self, model: str) -> None: ...

    @abstractmethod
    def model_drop(self, model: str) -> None:
        """Delete a model's image nodes, vector index and SIMILAR_TO edges (after switching away)."""

    @abstractmethod
    def image_models(self) -> set[str]:
        """The models that have image nodes in the graph (one while serving, two during a reembed)."""

    @abstractmethod
    def image_vectors(self, product_id: int, *, model: str) -> list[list[float]]:
        """The stored vectors of a product's images made by `model`."""

    @abstractmethod
    def upsert_products(self, products: Sequence[ProductRecord]) -> None:
        """Products' properties, including the filter properties of their image nodes in every model: the
        one call that makes a product or category change (name, slug, price, stock) reach searches."""

    @abstractmethod
    def products_with_stale_filters(self, products: Sequence[ProductRecord]) -> set[int]:
        """Of these products (as the catalog has them), those whose filter properties (category, price,
        stock) differ in the graph, on the product or on any image searches filter by."""

    @abstractmethod
    def upsert_images(self, images: Sequence[ImageRecord]) -> None:
        """MERGE each image node (one per image and model) and its HAS_IMAGE link."""

    def upsert_batch(self, *, products: Sequence[ProductRecord], images: Sequence[ImageRecord]) -> None:
        """A worker's batch: the products, then their images. Stores that can, do it in one round trip."""
        self.upsert_products(products)
        self.upsert_images(images)

    @abstractmethod
    def delete_images(self, image_ids: Sequence[int]) -> None:
        """Delete the images' nodes of every model."""

    @abstractmethod
    def delete_products(self, product_ids: Sequence[int]) -> None:
        """Remove products, their images and every SIMILAR_TO touching them."""

    @abstractmethod
    def nearest_images_many(
        self, vectors: Sequence[Sequence[float]], *, k: int, model: str
    ) -> list[list[ImageHit]]:
        """For each unit vector, its k nearest images made by `model` (from the approximate index),
        best first, exactly scored. One round trip."""

    def nearest_images(self, vector: Sequence[float], *, k: int, model: str) -> list[ImageHit]:
        return self.nearest_images_many([vector], k=k, model=model)[0]

    def nearest_products_many(
        self, vectors: Sequence[Sequence[float]], *, k: int, model: str, exclude_product_id: int
    ) -> dict[int, float]:
        """{product id: its best score} over every vector's k nearest images (as `nearest_images_many`),
        other than `exclude_product_id`'s: a product's SIMILAR_TO candidates. Stores that can, keep only
        the best per product on their side (one row per product instead of k per vector)."""
        best: dict[int, float] = {}
        for hits in self.nearest_images_many(vectors, k=k, model=model):
            for hit in hits:
                if hit.product_id != exclude_product_id:
                    best[hit.product_id] = max(best.get(hit.product_id, -1.0), hit.score)
        return best

    @abstractmethod
    def nearest_images_filtered(
        self,
        vector: Sequence[float],
        *,
        k: int,
        model: str,
        where: ProductFilter,
        search_k: int | None = None,
    ) -> FilteredHits:
        """The vector's k nearest images that pass `where`'s category, price and stock (filtered during the
        search), minus excluded products; `candidates`: how many passed before the exclusions. An
        approximate index searches for `search_k` (default k) and keeps the best k: a deeper search
        without more rows to return."""

    @abstractmethod
    def nearest_products_exact(
        self, vector: Sequence[float], *, k: int, model: str, where: ProductFilter, min_score: float | None
    ) -> list[ImageHit]:
        """Exact scan: the k products passing `where` whose best image is nearest, one hit per product."""

    # SIMILAR_TO edges carry the model whose vectors scored them.
    @abstractmethod
    def similar_replace(self, product_id: int, neighbours: Sequence[Neighbour], *, model: str) -> None:
        """Make `neighbours` the product's whole outgoing SIMILAR_TO list for `model`."""

    def similar_replace_many(self, lists: Mapping[int, Sequence[Neighbour]], *, model: str) -> None:
        """`similar_replace` for each product of `lists`; stores that can, in one round trip."""
        for product_id, neighbours in lists.items():
            self.similar_replace(product_id, neighbours, model=model)

    @abstractmethod
    def similar_offer(
        self, product_id: int, neighbours: Sequence[Neighbour], *, model: str, keep: int
    ) -> None:
        """Offer the product to each neighbour's list (reverse edge), each list trimmed to its best `keep`."""

    @abstractmethod
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
        """The product's similar items scored by `model` (None: any model, for tests and tools)."""

    @abstractmethod
    def similar_sources(self, product_id: int) -> list[int]:
        """Products that list this one among their similar items (any model)."""

    @abstractmethod
    def products(self) -> list[ProductRecord]:
        """Every product node with the properties it holds (compared with the catalog by check_graph)."""

    @abstractmethod
    def catalog_shape(self) -> CatalogShape:
        """Products counted by category, stock and price bucket: what a filter's share is estimated from."""

    @abstractmethod
    def model_image_count(self, model: str) -> int:
        """How many images `model` has vectors for: what a filter's share of them is estimated against."""

    @abstractmethod
    def stats(self) -> GraphStats: ...

    @abstractmethod
    def clear(self) -> None:
        """Delete every Product and Image node (tests and full rebuilds)."""

    # --- Consistency checks (search/consistency.py): read-only views of what the graph holds ---------------

    @abstractmethod
    def image_shapes(self) -> list[ImageShape]:
        """Every image node of any model: its product (None unless exactly one), model and vector size."""

    @abstractmethod
    def similar_edges(self) -> list[SimilarEdge]:
        """Every SIMILAR_TO edge, as product ids."""

    @abstractmethod
    def similar_delete(self, edges: Sequence[SimilarEdge]) -> None:
        """Drop these SIMILAR_TO edges (dangling ones found by the consistency check)."""


@dataclass(frozen=True)
class ImageShape:
    image_id: int
    product_id: int | None
    model: str | None
    dimensions: int


@dataclass(frozen=True)
class SimilarEdge:
    source_id: int
    target_id: int
