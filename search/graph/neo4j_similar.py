"""SIMILAR_TO upkeep: each product's list of similar items per model, and the reverse offers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from search.graph.base import Neighbour, ProductFilter, SimilarEdge
from search.graph.neo4j_connection import Neo4jConnection, float32_vector
from search.graph.neo4j_schema import vector_index_name
from search.graph.neo4j_search import _INDEX_SCORE, _RESCORED_MANY, PRODUCT_FILTER, cosine, filter_params


class Neo4jSimilarItems:
    """Mixed into Neo4jGraphStore."""

    db: Neo4jConnection

    def nearest_products_many(
        self, vectors: Sequence[Sequence[float]], *, k: int, model: str, exclude_product_id: int
    ) -> dict[int, float]:
        # A product's refresh asks for k neighbours of each of its images (~70 rows per image in a bulk
        # import); Neo4j keeps the best per product, so the worker unpacks tens of rows, not thousands.
        exact = self.vector_index_exact(model)  # type: ignore[attr-defined]  # Neo4jSchema
        rows = self.db.read(
            f"""
            UNWIND range(0, size($vectors) - 1) AS q
            CALL (q) {{
                CALL db.index.vector.queryNodes($index, $k, $vectors[q]) YIELD node, score AS index_score
                MATCH (p:Product)-[:HAS_IMAGE]->(node)
                WHERE node.model = $model AND p.product_id <> $exclude
                RETURN p.product_id AS product_id, {_INDEX_SCORE if exact else _RESCORED_MANY} AS score
            }}
            RETURN product_id, max(score) AS score
            """,
            index=vector_index_name(model),
            k=k,
            model=model,
            exclude=exclude_product_id,
            vectors=[float32_vector(v) for v in vectors],
        )
        return {product_id: cosine(score) for product_id, score in rows}

    def similar_replace(self, product_id: int, neighbours: Sequence[Neighbour], *, model: str) -> None:
        self.db.write(
            """
            MATCH (p:Product {product_id: $product_id})
            OPTIONAL MATCH (p)-[old:SIMILAR_TO]->() WHERE old.model = $model OR old.model IS NULL
            DELETE old
            WITH DISTINCT p
            UNWIND $neighbours AS n
            MATCH (q:Product {product_id: n.product_id})
            MERGE (p)-[r:SIMILAR_TO {model: $model}]->(q)
            SET r.score = n.score
            """,
            product_id=product_id,
            neighbours=[vars(n) for n in neighbours],
            model=model,
        )

    def similar_replace_many(self, lists: Mapping[int, Sequence[Neighbour]], *, model: str) -> None:
        """`similar_replace` for many products in one write (a version's full rebuild: one round trip and one
        commit per chunk instead of per product)."""
        self.db.write(
            """
            UNWIND $lists AS list
            MATCH (p:Product {product_id: list.product_id})
            CALL (p) {
                OPTIONAL MATCH (p)-[old:SIMILAR_TO]->() WHERE old.model = $model OR old.model IS NULL
                DELETE old
            }
            WITH p, list
            UNWIND list.neighbours AS n
            MATCH (q:Product {product_id: n.product_id})
            MERGE (p)-[r:SIMILAR_TO {model: $model}]->(q)
            SET r.score = n.score
            """,
            lists=[
                {"product_id": product_id, "neighbours": [vars(n) for n in neighbours]}
                for product_id, neighbours in lists.items()
            ],
            model=model,
        )

    def similar_offer(
        self, product_id: int, neighbours: Sequence[Neighbour], *, model: str, keep: int
    ) -> None:
        self.db.write(
            """
            MATCH (p:Product {product_id: $product_id})
            UNWIND $neighbours AS n
            MATCH (q:Product {product_id: n.product_id})
            MERGE (q)-[r:SIMILAR_TO {model: $model}]->(p)
            SET r.score = n.score
            WITH DISTINCT q
            CALL (q) {
                MATCH (q)-[r:SIMILAR_TO {model: $model}]->()
                WITH r ORDER BY r.score DESC SKIP $keep
                DELETE r
            }
            """,
            product_id=product_id,
            neighbours=[vars(n) for n in neighbours],
            model=model,
            keep=keep,
        )

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
        rows = self.db.read(
            f"""
            MATCH (:Product {{product_id: $product_id}})-[r:SIMILAR_TO]->(p:Product)
            WHERE ($model IS NULL OR r.model = $model) AND ($min_score IS NULL OR r.score >= $min_score)
              AND {PRODUCT_FILTER}
            RETURN p.product_id, r.score ORDER BY r.score DESC, p.product_id SKIP $offset LIMIT $limit
            """,
            product_id=product_id,
            limit=limit,
            offset=offset,
            min_score=min_score,
            model=model,
            **filter_params(where),
        )
        return [Neighbour(product_id=p, score=s) for p, s in rows]

    def similar_sources(self, product_id: int) -> list[int]:
        rows = self.db.read(
            "MATCH (q:Product)-[:SIMILAR_TO]->(:Product {product_id: $product_id}) RETURN DISTINCT q.product_id",
            product_id=product_id,
        )
        return [row[0] for row in rows]

    def similar_edges(self) -> list[SimilarEdge]:
        rows = self.db.read("MATCH (p)-[:SIMILAR_TO]->(q) RETURN p.product_id, q.product_id")
        return [SimilarEdge(source_id=p, target_id=q) for p, q in rows]

    def similar_delete(self, edges: Sequence[SimilarEdge]) -> None:
        self.db.write(
            """
            UNWIND $pairs AS pair
            MATCH (p:Product {product_id: pair[0]})-[r:SIMILAR_TO]->(q:Product {product_id: pair[1]})
            DELETE r
            """,
            pairs=[[e.source_id, e.target_id] for e in edges],
        )
