"""A worker's batch reaches the real Neo4j in one query, and leaves the graph as the two separate writes would."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from search.graph.base import GraphStore, ImageRecord, ProductRecord
from search.indexing import schema_ensure_once
from tests.integration.graph_cypher import cypher

pytestmark = [pytest.mark.integration]

MODEL = "efficientnet_lite0"


def _product(product_id: int, *, price: str, in_stock: bool, category: str) -> ProductRecord:
    return ProductRecord(
        product_id=product_id,
        name=f"Batch product {product_id}",
        slug=f"batch-product-{product_id}",
        category=category.title(),
        category_slug=category,
        price=Decimal(price),
        in_stock=in_stock,
    )


def _image(image_id: int, product_id: int) -> ImageRecord:
    # Vector and path from the image's last three digits: two copies of a batch under other ids are equal.
    vector = np.random.default_rng(image_id % 1000).normal(size=1280)
    return ImageRecord(
        image_id=image_id,
        product_id=product_id,
        path=f"products/batch-{image_id % 1000}.jpg",
        embedding=(vector / np.linalg.norm(vector)).tolist(),
        model=MODEL,
    )


def _graph_of(product_ids: list[int]) -> list[tuple]:
    """Each image of these products as (owner position, product properties, image properties, vector):
    positions instead of ids, so two copies of one batch under other ids compare equal."""
    rows = cypher(
        """
        MATCH (p:Product)-[:HAS_IMAGE]->(i:Image) WHERE p.product_id IN $ids
        RETURN p.product_id, p.price, p.in_stock, p.category_slug, i.image_id,
               i.price, i.in_stock, i.category_slug, i.path, i.model, i.embeddings
        ORDER BY i.image_id
        """,
        {"ids": product_ids},
    )
    base = min(product_ids)
    return [
        (row[0] - base, *row[1:4], row[4] % 1000, *row[5:10], np.round(row[10], 5).tolist()) for row in rows
    ]


def _scenario(store: GraphStore, base: int, write_batch) -> None:
    """Product base+0 exists with one image; then a batch changes its price and stock, adds product base+1,
    adds an image to each and moves the first image to base+1."""
    store.upsert_products([_product(base, price="2.50", in_stock=True, category="fruit")])
    store.upsert_images([_image(base + 1, base)])
    write_batch(
        products=[
            _product(base, price="3.75", in_stock=False, category="fruit"),
            _product(base + 1, price="1.20", in_stock=True, category="vegetables"),
        ],
        images=[_image(base + 1, base + 1), _image(base + 2, base), _image(base + 3, base + 1)],
    )


def test_a_batch_is_one_query_and_the_graph_it_leaves_is_that_of_the_separate_writes(
    neo4j_graph, monkeypatch
):
    schema_ensure_once(model=MODEL, dimensions=1280)
    one_trip, two_trips = 9_100_000, 9_200_000
    try:
        queries: list[str] = []
        write = neo4j_graph.db.write

        def write_counted(cypher_text: str, **params):
            queries.append(cypher_text)
            return write(cypher_text, **params)

        def batch_counted(**batch):
            monkeypatch.setattr(neo4j_graph.db, "write", write_counted)
            try:
                neo4j_graph.upsert_batch(**batch)
            finally:
                monkeypatch.undo()

        _scenario(neo4j_graph, one_trip, batch_counted)
        assert len(queries) == 1
        # The default of GraphStore: products, then images, two queries.
        _scenario(neo4j_graph, two_trips, lambda **batch: GraphStore.upsert_batch(neo4j_graph, **batch))

        one = _graph_of([one_trip, one_trip + 1])
        assert one == _graph_of([two_trips, two_trips + 1])
        by_image = {row[4]: row for row in one}
        assert sorted(by_image) == [1, 2, 3]
        # The moved image has one owner, the new product, and its filter properties.
        assert by_image[1][0] == 1 and by_image[1][5:8] == (1.2, True, "vegetables")
        # The first product's new price and stock reached it and its new image.
        assert by_image[2][:4] == (0, 3.75, False, "fruit") and by_image[2][5:7] == (3.75, False)
        owners = cypher(
            "MATCH (p:Product)-[:HAS_IMAGE]->(i:Image {image_id: $id}) RETURN count(p)", {"id": one_trip + 1}
        )
        assert owners == [[1]]
    finally:
        neo4j_graph.delete_products([one_trip, one_trip + 1, two_trips, two_trips + 1])


def test_a_batch_of_images_without_products_still_writes_the_images(neo4j_graph):
    # The products' part matches nothing; its count(*) row must still carry the query on to the images.
    schema_ensure_once(model=MODEL, dimensions=1280)
    base = 9_300_000
    try:
        neo4j_graph.upsert_products([_product(base, price="1.00", in_stock=True, category="fruit")])
        neo4j_graph.upsert_batch(products=[], images=[_image(base + 1, base)])
        assert cypher(
            "MATCH (:Product {product_id: $p})-[:HAS_IMAGE]->(i:Image) RETURN i.image_id, i.price",
            {"p": base},
        ) == [[base + 1, 1.0]]
    finally:
        neo4j_graph.delete_products([base])
