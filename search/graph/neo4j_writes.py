"""Writes of the catalog's projection: products, images and their vectors, deletes, clearing."""

from __future__ import annotations

from collections.abc import Sequence

from search.graph.base import ImageRecord, ProductRecord
from search.graph.neo4j_connection import Neo4jConnection
from search.graph.neo4j_schema import model_label


class Neo4jWrites:
    """Mixed into Neo4jGraphStore."""

    db: Neo4jConnection

    def upsert_products(self, products: Sequence[ProductRecord]) -> None:
        self.db.write(
            """
            UNWIND $rows AS row
            MERGE (p:Product {product_id: row.product_id})
            SET p.name = row.name, p.slug = row.slug, p.category = row.category,
                p.category_slug = row.category_slug, p.price = row.price, p.in_stock = row.in_stock
            """,
            rows=[vars(product) for product in products],
        )

    def upsert_images(self, images: Sequence[ImageRecord]) -> None:
        for model in sorted({i.model for i in images}):
            self._upsert_model_images([i for i in images if i.model == model], model=model)

    def _upsert_model_images(self, images: Sequence[ImageRecord], *, model: str) -> None:
        rows = [
            {
                "image_id": i.image_id,
                "product_id": i.product_id,
                "path": i.path,
                "embedding": [float(x) for x in i.embedding],
            }
            for i in images
        ]
        self.db.write(
            f"""
            UNWIND $rows AS row
            MERGE (p:Product {{product_id: row.product_id}})
            MERGE (i:{model_label(model)} {{image_id: row.image_id}})
            SET i:Image, i.path = row.path, i.model = $model
            WITH p, i, row
            CALL db.create.setNodeVectorProperty(i, 'embeddings', row.embedding)
            MERGE (p)-[:HAS_IMAGE]->(i)
            WITH p, i
            OPTIONAL MATCH (other:Product)-[moved:HAS_IMAGE]->(i) WHERE other <> p
            DELETE moved
            """,
            rows=rows,
            model=model,
        )

    def delete_images(self, image_ids: Sequence[int]) -> None:
        self.db.write("MATCH (i:Image) WHERE i.image_id IN $ids DETACH DELETE i", ids=list(image_ids))

    def delete_products(self, product_ids: Sequence[int]) -> None:
        self.db.write(
            """
            MATCH (p:Product) WHERE p.product_id IN $ids
            OPTIONAL MATCH (p)-[:HAS_IMAGE]->(i:Image)
            DETACH DELETE p, i
            """,
            ids=list(product_ids),
        )

    def clear(self) -> None:
        # In batches: one transaction over 100k vectors exceeds db.memory.transaction.total.max.
        self.db.autocommit(
            """
            MATCH (n) WHERE n:Product OR n:Image OR n:IndexState
            CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 2000 ROWS
            """
        )
