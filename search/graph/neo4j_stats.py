"""Read-only views of what the graph holds: counts for the admin, and shapes for the consistency check."""

from __future__ import annotations

from search.graph.base import GraphStats, ImageShape, ProductRecord
from search.graph.catalog_shape import PRICE_BUCKETS_PER_OCTAVE, CatalogShape, FilterCell
from search.graph.neo4j_connection import Neo4jConnection
from search.graph.neo4j_schema import model_label, vector_index_name


class Neo4jStats:
    """Mixed into Neo4jGraphStore."""

    db: Neo4jConnection

    def products(self) -> list[ProductRecord]:
        rows = self.db.read(
            "MATCH (p:Product) RETURN p.product_id, p.name, p.slug, p.category, p.category_slug, p.price, "
            "p.in_stock ORDER BY p.product_id"
        )
        return [ProductRecord(*row) for row in rows]

    def catalog_shape(self) -> CatalogShape:
        # One pass over the products, aggregated in the server (a few hundred rows come back). Its cost is
        # measured in docs/benchmarks.md; search/similarity.py keeps the result for minutes.
        rows = self.db.read(
            """
            MATCH (p:Product)
            RETURN p.category_slug, p.in_stock,
                   CASE WHEN p.price IS NOT NULL
                        THEN toInteger(floor(log(1.0 + CASE WHEN p.price > 0 THEN p.price ELSE 0.0 END) / log(2.0)
                                             * $per_octave)) END AS bucket,
                   count(*)
            """,
            per_octave=PRICE_BUCKETS_PER_OCTAVE,
        )
        return CatalogShape.of(FilterCell(c, s, b, n) for c, s, b, n in rows)

    def model_image_count(self, model: str) -> int:
        # From the label's count statistics: constant time, however many images.
        [[count]] = self.db.read(f"MATCH (i:{model_label(model)}) RETURN count(i)")
        return count

    def stats(self) -> GraphStats:
        """Counts for the serving model's images and edges."""
        serving = self.serving_model()  # type: ignore[attr-defined]  # Neo4jSchema
        [[products, images, edges]] = self.db.read(
            """
            CALL () { MATCH (p:Product) RETURN count(p) AS products }
            CALL () { MATCH (i:Image {model: $model}) RETURN count(i) AS images }
            CALL () { MATCH ()-[r:SIMILAR_TO {model: $model}]->() RETURN count(r) AS edges }
            RETURN products, images, edges
            """,
            model=serving,
        )
        index = serving and self.db.read(
            "SHOW INDEXES YIELD name, state, options WHERE name = $name RETURN state, options",
            name=vector_index_name(serving),
        )
        if index:
            state, options = index[0]
            config = options["indexConfig"]
            described = (
                f"{state} {config['vector.dimensions']}d {config['vector.similarity_function'].lower()}"
            )
        else:
            described = "missing"
        return GraphStats(
            products=products,
            images=images,
            similar_edges=edges,
            vector_index=described,
            serving_model=serving,
        )

    def image_shapes(self) -> list[ImageShape]:
        rows = self.db.read(
            """
            MATCH (i:Image)
            OPTIONAL MATCH (p:Product)-[:HAS_IMAGE]->(i)
            // An image hanging off no product, or off several, has no single owner: reported as None.
            WITH i, count(p) AS owners, min(p.product_id) AS product_id
            RETURN i.image_id, CASE WHEN owners = 1 THEN product_id END, i.model, coalesce(size(i.embeddings), 0)
            """
        )
        return [ImageShape(image_id=i, product_id=p, model=m, dimensions=d) for i, p, m, d in rows]
