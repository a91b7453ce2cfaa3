"""Writes of the catalog's projection: products, images and their vectors, deletes, clearing."""

from __future__ import annotations

from collections.abc import Sequence

from search.graph.base import ImageRecord, ProductRecord
from search.graph.neo4j_connection import Neo4jConnection, float32_vector
from search.graph.neo4j_schema import model_label


def _product_row(product: ProductRecord) -> dict[str, object]:
    # The index compares prices as floats: never let an int (or a Decimal's str) in.
    return {**vars(product), "price": float(product.price)}


PRODUCTS_UPSERT = """
UNWIND $products AS product
MERGE (p:Product {product_id: product.product_id})
SET p.name = product.name, p.slug = product.slug, p.category = product.category,
    p.category_slug = product.category_slug, p.price = product.price, p.in_stock = product.in_stock
WITH p
MATCH (p)-[:HAS_IMAGE]->(i:Image)
SET i.category_slug = p.category_slug, i.price = p.price, i.in_stock = p.in_stock
"""


class Neo4jWrites:
    """Mixed into Neo4jGraphStore."""

    db: Neo4jConnection

    def upsert_products(self, products: Sequence[ProductRecord]) -> None:
        """Products' properties, and their filter properties on each of their image nodes (every model's),
        where the vector index filters on them: a price, stock or category change reaches searches at once."""
        self.db.write(PRODUCTS_UPSERT, products=[_product_row(product) for product in products])

    def products_with_stale_filters(self, products: Sequence[ProductRecord]) -> set[int]:
        """Of these products (as the catalog has them), those whose node or any image node in the graph holds
        other filter values: searches would filter them wrongly until `upsert_products` refreshes them."""
        rows = self.db.read(
            """
            UNWIND $rows AS row
            MATCH (p:Product {product_id: row.product_id})
            OPTIONAL MATCH (p)-[:HAS_IMAGE]->(i:Image)
            WITH row, p, collect(i) AS images
            WHERE NOT (coalesce(p.category_slug = row.category_slug AND p.category = row.category
                                AND p.price = row.price AND p.in_stock = row.in_stock, false))
               OR any(i IN images WHERE NOT (coalesce(i.category_slug = row.category_slug
                      AND i.price = row.price AND i.in_stock = row.in_stock, false)))
            RETURN row.product_id
            """,
            rows=[_product_row(product) for product in products],
        )
        return {row[0] for row in rows}

    def upsert_images(self, images: Sequence[ImageRecord]) -> None:
        for model in sorted({i.model for i in images}):
            self._upsert_model_batch([], [i for i in images if i.model == model], model=model)

    def upsert_batch(self, *, products: Sequence[ProductRecord], images: Sequence[ImageRecord]) -> None:
        """A worker's batch (its images are all of one model, one served version): one query, one round trip."""
        models = {i.model for i in images}
        if len(models) == 1:
            self._upsert_model_batch(products, images, model=models.pop())
        else:  # no images, or several models: not a worker's batch
            self.upsert_products(products)
            self.upsert_images(images)

    def _upsert_model_batch(
        self, products: Sequence[ProductRecord], images: Sequence[ImageRecord], *, model: str
    ) -> None:
        """`upsert_products` then the images' nodes of `model`, in one query: the products' part ends in
        `count(*)`, one row whatever it matched, so the images' part runs once (even after no products)."""
        rows = [
            {
                "image_id": i.image_id,
                "product_id": i.product_id,
                "path": i.path,
                "embedding": float32_vector(i.embedding),
            }
            for i in images
        ]
        self.db.write(
            f"""
            {PRODUCTS_UPSERT}
            WITH count(*) AS products_written
            UNWIND $images AS row
            MERGE (p:Product {{product_id: row.product_id}})
            MERGE (i:{model_label(model)} {{image_id: row.image_id}})
            SET i:Image, i.path = row.path, i.model = $model,
                i.category_slug = p.category_slug, i.price = p.price, i.in_stock = p.in_stock
            WITH p, i, row
            CALL db.create.setNodeVectorProperty(i, 'embeddings', row.embedding)
            MERGE (p)-[:HAS_IMAGE]->(i)
            WITH p, i
            OPTIONAL MATCH (other:Product)-[moved:HAS_IMAGE]->(i) WHERE other <> p
            DELETE moved
            """,
            products=[_product_row(product) for product in products],
            images=rows,
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
