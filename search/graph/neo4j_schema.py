"""Names, schema and serving state of the Neo4j graph: labels, constraints, each model's vector index.

Graph shape (kept from the seed article, so its own Cypher still runs):
    (:Product {product_id, name, slug, category, category_slug, price, in_stock})-[:HAS_IMAGE]->
        (:Image:Image_<model> {image_id, path, embeddings, model, category_slug, price, in_stock})
    (:Product)-[:SIMILAR_TO {score, model}]->(:Product)
    (:IndexState {key: "serving", model})
Each model (a backbone, or any validated key) has its own image label and vector index, so a new model's
vectors load beside the served ones and the switch is one write. Labels and index names cannot be Cypher
parameters: they are built only from model keys checked against `MODEL_NAME`.

Filters run inside the vector index (Neo4j 2026, Cypher 25 `SEARCH … WHERE`): the index holds, beside each
vector, the image's copies of its product's filter properties (`FILTER_PROPERTIES`), which every product
write refreshes (neo4j_writes) and `check_graph` compares with the catalog.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from search.graph.neo4j_connection import Neo4jConnection

logger = logging.getLogger("lookalike.graph")

# Building a 100k-vector index took 14 min on 2 busy cores.
INDEX_ONLINE_TIMEOUT_S = 3600
MODEL_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# Copied from the product onto each image node and stored in the vector index, so searches filter on them.
FILTER_PROPERTIES = ("category_slug", "price", "in_stock")
INDEXED_PROPERTIES = ("embeddings", *FILTER_PROPERTIES)


def checked_model(model: str) -> str:
    if not MODEL_NAME.fullmatch(model):
        raise ValueError(f"Model name {model!r} must match {MODEL_NAME.pattern}")
    return model


def checked_identifier(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{name!r} is not a plain Cypher identifier")
    return name


def model_label(model: str) -> str:
    return f"Image_{checked_model(model)}"


def vector_index_name(model: str) -> str:
    return f"image_embeddings_{checked_model(model)}"


class Neo4jSchema:
    """Schema and serving state; mixed into Neo4jGraphStore."""

    db: Neo4jConnection
    index_config: dict[str, Any]
    _index_exact: dict[str, bool]

    def ensure_schema(self, *, model: str, dimensions: int, vector_index: bool = True) -> None:
        self.db.write(
            "CREATE CONSTRAINT product_product_id IF NOT EXISTS FOR (p:Product) REQUIRE p.product_id IS UNIQUE"
        )
        self.db.write("CREATE INDEX image_image_id IF NOT EXISTS FOR (i:Image) ON (i.image_id)")
        self.db.write("CREATE INDEX product_category_slug IF NOT EXISTS FOR (p:Product) ON (p.category_slug)")
        self.db.write(
            f"CREATE CONSTRAINT {model_label(model)}_image_id IF NOT EXISTS "
            f"FOR (i:{model_label(model)}) REQUIRE i.image_id IS UNIQUE"
        )
        if vector_index:
            self._vector_index_ensure(model=model, dimensions=dimensions)
        self.db.write("MERGE (s:IndexState {key: 'serving'}) ON CREATE SET s.model = $model", model=model)

    def _vector_index_ensure(self, *, model: str, dimensions: int) -> None:
        existing = self.db.read(
            "SHOW INDEXES YIELD name, options, properties WHERE name = $name RETURN options, properties",
            name=vector_index_name(model),
        )
        if existing:
            [[options, properties]] = existing
            # Another model size, or an index from before filters lived in it (a 5.26-era layout).
            if options["indexConfig"]["vector.dimensions"] != dimensions or properties != list(
                INDEXED_PROPERTIES
            ):
                logger.info(
                    "Recreating %s: %d dimensions, filter properties", vector_index_name(model), dimensions
                )
                self.db.write(f"DROP INDEX {vector_index_name(model)}")
        self._vector_index_create(model=model, dimensions=dimensions)

    def _vector_index_create(self, *, model: str, dimensions: int) -> None:
        self._index_exact.pop(model, None)
        # `WITH [...]` (filter properties inside the index) is Cypher 25 syntax, hence the prefix.
        self.db.write(
            f"CYPHER 25 CREATE VECTOR INDEX {vector_index_name(model)} IF NOT EXISTS "
            f"FOR (i:{model_label(model)}) ON i.embeddings WITH [i.category_slug, i.price, i.in_stock] "
            "OPTIONS $options",
            options={"indexConfig": {"vector.dimensions": dimensions, **self.index_config}},
        )
        self.db.autocommit("CALL db.awaitIndexes($timeout_s)", timeout_s=INDEX_ONLINE_TIMEOUT_S)

    def vector_index_rebuild(self, *, model: str, dimensions: int, even_if_served: bool = False) -> None:
        if model == self.serving_model() and not even_if_served:
            raise ValueError(f"{model} is being served; rebuilding its index would stop searches")
        self.db.write(f"DROP INDEX {vector_index_name(model)} IF EXISTS")
        self._vector_index_create(model=model, dimensions=dimensions)

    def vector_index_exact(self, model: str) -> bool:
        """Whether the model's vector index is unquantised, i.e. its scores are exact cosines. Read from the
        server once per model (an index built before a settings change keeps its own options)."""
        exact = self._index_exact.get(model)
        if exact is None:
            rows = self.db.read(
                "SHOW VECTOR INDEXES YIELD name, options WHERE name = $name RETURN options",
                name=vector_index_name(model),
            )
            if not rows:
                return False
            config = rows[0][0]["indexConfig"]
            exact = (
                config.get("vector.quantization.type") == "NONE"
                or config.get("vector.quantization.enabled") is False
            )
            self._index_exact[model] = exact
        return exact

    def serving_model(self) -> str | None:
        rows = self.db.read("MATCH (s:IndexState {key: 'serving'}) RETURN s.model")
        return rows[0][0] if rows else None

    def serving_switch(self, model: str) -> None:
        self.db.write(
            "MERGE (s:IndexState {key: 'serving'}) SET s.model = $model", model=checked_model(model)
        )

    def model_drop(self, model: str) -> None:
        self.db.autocommit(
            f"MATCH (i:{model_label(model)}) CALL (i) {{ DETACH DELETE i }} IN TRANSACTIONS OF 2000 ROWS"
        )
        self.db.autocommit(
            "MATCH ()-[r:SIMILAR_TO {model: $model}]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS",
            model=model,
        )
        self.db.write(f"DROP INDEX {vector_index_name(model)} IF EXISTS")
        self._index_exact.pop(model, None)
        self.db.write(f"DROP CONSTRAINT {model_label(model)}_image_id IF EXISTS")

    def image_models(self) -> set[str]:
        rows = self.db.read("MATCH (i:Image) WHERE i.model IS NOT NULL RETURN DISTINCT i.model")
        return {row[0] for row in rows}
