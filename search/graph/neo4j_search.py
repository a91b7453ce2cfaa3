"""Search: nearest images from a model's vector index, filtered by product, and the exact scan."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from search.graph.base import FilteredHits, ImageHit, ProductFilter
from search.graph.neo4j_connection import Neo4jConnection, float32_vector
from search.graph.neo4j_schema import model_label, vector_index_name

# A fixed, parameterised predicate on `p:Product`: filters never build Cypher from user strings.
PRODUCT_FILTER = """
    ($f_category IS NULL OR p.category_slug = $f_category)
    AND ($f_min_price IS NULL OR p.price >= $f_min_price)
    AND ($f_max_price IS NULL OR p.price <= $f_max_price)
    AND ($f_in_stock IS NULL OR p.in_stock = $f_in_stock)
    AND NOT p.product_id IN $f_exclude
"""
# Filter properties copied from each product onto its image nodes, so the vector index can hold them
# (`WITH [...]`) and filter during the search. Exact values and ranges only: that is what SEARCH accepts.
_INDEX_CATEGORY = "node.category_slug = $f_category"
_INDEX_MIN_PRICE = "node.price >= $f_min_price"
_INDEX_MAX_PRICE = "node.price <= $f_max_price"
_INDEX_IN_STOCK = "node.in_stock = $f_in_stock"


def index_where(where: ProductFilter) -> str:
    """The SEARCH clause's WHERE for this filter, assembled from the fixed fragments above only (a null
    parameter would match nothing, so absent filters are left out rather than passed as null)."""
    parts = [
        fragment
        for fragment, value in (
            (_INDEX_CATEGORY, where.category_slug),
            (_INDEX_MIN_PRICE, where.min_price),
            (_INDEX_MAX_PRICE, where.max_price),
            (_INDEX_IN_STOCK, where.in_stock),
        )
        if value is not None
    ]
    return f"WHERE {' AND '.join(parts)}" if parts else ""


# An unquantised index scores with the float32 vectors it holds: its score is the cosine itself. A quantised
# one scores int8 codes, so its candidates are rescored from the stored vectors, which reads a 5 KB float array
# per candidate from the store (at 10k images, about half of a search's time).
_INDEX_SCORE = "index_score"
_RESCORED = "vector.similarity.cosine(node.embeddings, $vector)"
_RESCORED_MANY = "vector.similarity.cosine(node.embeddings, $vectors[q])"  # nearest_images_many's q-th vector

_ALL_PRODUCTS = "(p:Product)"
_CATEGORY_PRODUCTS = "(p:Product {category_slug: $f_category})"


def filter_params(where: ProductFilter) -> dict[str, Any]:
    return {
        "f_category": where.category_slug,
        # Floats, as stored: the index compares typed values (a Decimal from a form would not even travel).
        "f_min_price": None if where.min_price is None else float(where.min_price),
        "f_max_price": None if where.max_price is None else float(where.max_price),
        "f_in_stock": where.in_stock,
        "f_exclude": list(where.exclude_ids),
    }


def to_neo4j_score(cosine: float | None) -> float | None:
    return None if cosine is None else (1.0 + cosine) / 2.0


def cosine(neo4j_score: float) -> float:
    # Neo4j's cosine vector index reports (1 + cos) / 2; the rest of Lookalike speaks plain cosine.
    return 2.0 * neo4j_score - 1.0


class Neo4jSearch:
    """Mixed into Neo4jGraphStore."""

    db: Neo4jConnection

    def image_vectors(self, product_id: int, *, model: str) -> list[list[float]]:
        rows = self.db.read(
            "MATCH (:Product {product_id: $product_id})-[:HAS_IMAGE]->(i:Image {model: $model}) "
            "RETURN i.embeddings ORDER BY i.image_id",
            product_id=product_id,
            model=model,
        )
        return [list(row[0]) for row in rows]

    def nearest_images_many(
        self, vectors: Sequence[Sequence[float]], *, k: int, model: str
    ) -> list[list[ImageHit]]:
        # SIMILAR_TO upkeep asks for many neighbours per image: skipping the rescoring reads matters here too.
        exact = self.vector_index_exact(model)  # type: ignore[attr-defined]  # Neo4jSchema
        rows = self.db.read(
            f"""
            UNWIND range(0, size($vectors) - 1) AS q
            CALL (q) {{
                CALL db.index.vector.queryNodes($index, $k, $vectors[q]) YIELD node, score AS index_score
                MATCH (p:Product)-[:HAS_IMAGE]->(node)
                WHERE node.model = $model
                // A quantised index's own score is approximate: then the k candidates are rescored exactly
                // from the stored float vectors, so every score Lookalike shows is the true cosine.
                RETURN node.image_id AS image_id, p.product_id AS product_id,
                       {_INDEX_SCORE if exact else _RESCORED_MANY} AS score
            }}
            RETURN q, image_id, product_id, score
            ORDER BY q, score DESC, image_id
            """,
            index=vector_index_name(model),
            k=k,
            model=model,
            vectors=[float32_vector(v) for v in vectors],
        )
        hits: list[list[ImageHit]] = [[] for _ in vectors]
        for q, image_id, product_id, score in rows:
            hits[q].append(ImageHit(image_id=image_id, product_id=product_id, score=cosine(score)))
        return hits

    def nearest_images_filtered(
        self,
        vector: Sequence[float],
        *,
        k: int,
        model: str,
        where: ProductFilter,
        search_k: int | None = None,
    ) -> FilteredHits:
        """The k nearest images that pass the filter's category, price and stock, found by the vector index
        with the filter applied during the search (it keeps searching until k pass). Excluded products
        cannot be an index predicate (no NOT); they are dropped from the k afterwards. `search_k` (at least
        k) is what the index searches for before the best k are kept: Lucene's k, the depth of its walk (and
        once it covers every image passing the filter, an exact scan of those)."""
        exact = self.vector_index_exact(model)  # type: ignore[attr-defined]  # Neo4jSchema
        search_k = max(k, search_k or k)
        [[candidates, kept]] = self.db.read(
            f"""
            CYPHER 25
            MATCH (node:{model_label(model)})
            SEARCH node IN (VECTOR INDEX {vector_index_name(model)} FOR $vector {index_where(where)} LIMIT $search_k)
                SCORE AS index_score
            // Only the best k go on to their products (at 100k, 320 rows took 2-6 ms longer than 80).
            WITH node, index_score ORDER BY index_score DESC LIMIT $k
            MATCH (p:Product)-[:HAS_IMAGE]->(node)
            // The product has the last word: an image whose copied filter values lag behind its product's
            // (until check_graph repairs it) is dropped rather than shown against the filter.
            WITH node, p, index_score, {PRODUCT_FILTER} AS passes
            RETURN count(*) AS candidates,
                   collect(CASE WHEN passes THEN [node.image_id, p.product_id, {_INDEX_SCORE if exact else _RESCORED}] END) AS kept
            """,
            # A quantised index's scores only approximate the order: then every candidate is rescored.
            k=k if exact else search_k,
            search_k=search_k,
            vector=float32_vector(vector),
            **filter_params(where),
        )
        hits = [ImageHit(image_id=i, product_id=p, score=cosine(s)) for i, p, s in kept]
        return FilteredHits(hits=sorted(hits, key=lambda h: (-h.score, h.image_id)), candidates=candidates)

    def nearest_products_exact(
        self, vector: Sequence[float], *, k: int, model: str, where: ProductFilter, min_score: float | None
    ) -> list[ImageHit]:
        # With a category, start from its index instead of every product.
        rows = self.db.read(
            f"""
            MATCH {_CATEGORY_PRODUCTS if where.category_slug is not None else _ALL_PRODUCTS}-[:HAS_IMAGE]->(node:Image)
            // Nodes left with another size by a dimension change are not comparable: skip, as the index does.
            WHERE node.model = $model AND size(node.embeddings) = $dimensions AND {PRODUCT_FILTER}
            WITH p, node, vector.similarity.cosine(node.embeddings, $vector) AS score
            WHERE $min_score IS NULL OR score >= $min_score
            ORDER BY score DESC, node.image_id
            WITH p, collect(node.image_id)[0] AS image_id, max(score) AS score
            RETURN image_id, p.product_id, score
            ORDER BY score DESC, p.product_id
            LIMIT $k
            """,
            vector=float32_vector(vector),
            dimensions=len(vector),  # $vector is a VECTOR value, which size() does not take
            k=k,
            model=model,
            min_score=to_neo4j_score(min_score),
            **filter_params(where),
        )
        return [ImageHit(image_id=i, product_id=p, score=cosine(s)) for i, p, s in rows]
