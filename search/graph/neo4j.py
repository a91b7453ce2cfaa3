"""The Neo4j graph store, through neomodel. The only module that imports neomodel or the neo4j driver.

Graph shape (kept from the seed article, so its own Cypher still runs):
    (:Product {product_id, name, slug, category, price, in_stock})-[:HAS_IMAGE]->(:Image {image_id, path, embeddings, model})
    (:Product)-[:SIMILAR_TO {score, model}]->(:Product)
    (:IndexState {key: "serving", model})
Each image node also carries a label for its model (`Image_efficientnet_lite0`), the vector index
`image_embeddings_<model>` covers that label, and IndexState names the model searches read. So a new
backbone's vectors load beside the served ones and the switch is one write.
Every query is parameterised; no user string is ever spliced into Cypher. The only names spliced in are
model labels and index names, built from backbone names checked against `_MODEL_NAME`.
"""

from __future__ import annotations

import functools
import io
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import neo4j.exceptions
from neomodel import (
    ArrayProperty,
    BooleanProperty,
    FloatProperty,
    IntegerProperty,
    RelationshipTo,
    StringProperty,
    StructuredNode,
    StructuredRel,
    db,
    get_config,
)

import neo4j
from search.graph.base import (
    FilteredHits,
    GraphStats,
    GraphStore,
    GraphUnavailable,
    ImageHit,
    ImageRecord,
    ImageShape,
    Neighbour,
    ProductFilter,
    ProductRecord,
    SimilarEdge,
)

logger = logging.getLogger("lookalike.graph")

# Building a 100k-vector index took 14 min on 2 busy cores.
INDEX_ONLINE_TIMEOUT_S = 3600
# Labels and index names cannot be Cypher parameters; model names are checked before they are spliced in.
_MODEL_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# Before models had their own labels: one index and a unique constraint on every :Image.
_LEGACY_VECTOR_INDEX = "image_embeddings"

T = TypeVar("T")


class SimilarTo(StructuredRel):
    score = FloatProperty(required=True)  # cosine similarity in [-1, 1]


class ImageNode(StructuredNode):
    __label__ = "Image"
    # One node per image and model: unique per model label (see `_model_label`), not across models.
    image_id = IntegerProperty(index=True, required=True)
    path = StringProperty()
    model = StringProperty()
    # Stored as a float vector by db.create.setNodeVectorProperty; indexed by the model's vector index.
    embeddings = ArrayProperty(FloatProperty())


class ProductNode(StructuredNode):
    __label__ = "Product"
    product_id = IntegerProperty(unique_index=True, required=True)
    name = StringProperty()
    slug = StringProperty()
    category = StringProperty()
    category_slug = StringProperty()
    price = FloatProperty()
    in_stock = BooleanProperty()
    images = RelationshipTo(ImageNode, "HAS_IMAGE")
    similar = RelationshipTo("ProductNode", "SIMILAR_TO", model=SimilarTo)


# Errors that mean "the server is not there right now", as opposed to a bug in a query.
_UNAVAILABLE = (
    neo4j.exceptions.ServiceUnavailable,
    neo4j.exceptions.SessionExpired,
    neo4j.exceptions.AuthError,
    # Deadlocks between concurrent writers (two workers offering SIMILAR_TO to the same product): try later.
    neo4j.exceptions.TransientError,
    ConnectionError,
    OSError,
)


def _index_missing(exc: neo4j.exceptions.ClientError) -> bool:
    # A model's vector index is dropped by a switch and rebuilt by reembed: for that while, searches of it
    # are "unavailable" (503, retried), not a bug. Neo4j says so only in the message.
    message = (exc.message or "").lower()
    return "index" in message and (
        "no such" in message or "not online" in message or "does not exist" in message
    )


def _translating_unavailable(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except _UNAVAILABLE as exc:
            raise GraphUnavailable(f"Neo4j is unavailable: {exc.__class__.__name__}: {exc}") from exc
        except neo4j.exceptions.ClientError as exc:
            if _index_missing(exc):
                raise GraphUnavailable(f"The vector index is not available right now: {exc.message}") from exc
            raise

    return wrapper


# A fixed, parameterised predicate on `p:Product`: filters never build Cypher from user strings.
PRODUCT_FILTER = """
    ($f_category IS NULL OR p.category_slug = $f_category)
    AND ($f_min_price IS NULL OR p.price >= $f_min_price)
    AND ($f_max_price IS NULL OR p.price <= $f_max_price)
    AND ($f_in_stock IS NULL OR p.in_stock = $f_in_stock)
    AND NOT p.product_id IN $f_exclude
"""


_ALL_PRODUCTS = "(p:Product)"
_CATEGORY_PRODUCTS = "(p:Product {category_slug: $f_category})"


def _filter_params(where: ProductFilter) -> dict[str, Any]:
    return {
        "f_category": where.category_slug,
        "f_min_price": where.min_price,
        "f_max_price": where.max_price,
        "f_in_stock": where.in_stock,
        "f_exclude": list(where.exclude_ids),
    }


def _to_neo4j_score(cosine: float | None) -> float | None:
    return None if cosine is None else (1.0 + cosine) / 2.0


def _cosine(neo4j_score: float) -> float:
    # Neo4j's cosine vector index reports (1 + cos) / 2; the rest of Lookalike speaks plain cosine.
    return 2.0 * neo4j_score - 1.0


def _checked_model(model: str) -> str:
    if not _MODEL_NAME.fullmatch(model):
        raise ValueError(f"Model name {model!r} must match {_MODEL_NAME.pattern}")
    return model


def _checked_identifier(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{name!r} is not a plain Cypher identifier")
    return name


def _model_label(model: str) -> str:
    return f"Image_{_checked_model(model)}"


def vector_index_name(model: str) -> str:
    return f"image_embeddings_{_checked_model(model)}"


def _query(cypher: str, **params: Any) -> list[list[Any]]:
    rows, _ = db.cypher_query(cypher, params)
    return rows


def bolt_target(url: str, *, username: str, password: str, database: str) -> tuple[str, tuple[str, str], str]:
    """(address, auth, database): credentials and database may sit in the URL, as in neomodel's URLs."""
    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port}" if parts.port else (parts.hostname or "")
    address = parts._replace(netloc=host, path="").geturl()
    return (
        address,
        (parts.username or username, parts.password or password),
        parts.path.strip("/") or database,
    )


class Neo4jGraphStore(GraphStore):
    def __init__(
        self,
        *,
        url: str,
        username: str,
        password: str,
        database: str,
        connection_timeout_s: float,
        hnsw_m: int = 16,
        hnsw_ef_construction: int = 100,
        quantization: bool = True,
    ):
        self.index_config = {
            "vector.similarity_function": "cosine",
            "vector.hnsw.m": hnsw_m,
            "vector.hnsw.ef_construction": hnsw_ef_construction,
            "vector.quantization.enabled": quantization,
        }
        address, auth, self.database = bolt_target(
            url, username=username, password=password, database=database
        )
        self.url = address
        self.driver = neo4j.GraphDatabase.driver(
            address,
            auth=auth,
            connection_timeout=connection_timeout_s,
            connection_acquisition_timeout=connection_timeout_s * 2,
        )
        config = get_config()
        config.driver = self.driver
        config.database_name = self.database

    @classmethod
    def from_settings(cls, settings: Any) -> Neo4jGraphStore:
        return cls(
            url=settings.NEO4J_BOLT_URL,
            username=settings.NEO4J_USERNAME,
            password=settings.NEO4J_PASSWORD,
            database=settings.NEO4J_DATABASE,
            connection_timeout_s=settings.NEO4J_CONNECTION_TIMEOUT_S,
            hnsw_m=settings.NEO4J_VECTOR_HNSW_M,
            hnsw_ef_construction=settings.NEO4J_VECTOR_HNSW_EF_CONSTRUCTION,
            quantization=settings.NEO4J_VECTOR_QUANTIZATION,
        )

    @_translating_unavailable
    def ensure_schema(self, *, model: str, dimensions: int) -> None:
        # neomodel reports "constraint already exists" on stdout even when quiet; that is expected here.
        db.install_labels(ProductNode, quiet=True, stdout=io.StringIO())
        self._legacy_schema_drop()
        index = vector_index_name(model)
        _query("CREATE INDEX image_image_id IF NOT EXISTS FOR (i:Image) ON (i.image_id)")
        _query("CREATE INDEX product_category_slug IF NOT EXISTS FOR (p:Product) ON (p.category_slug)")
        _query(
            f"CREATE CONSTRAINT {_model_label(model)}_image_id IF NOT EXISTS "
            f"FOR (i:{_model_label(model)}) REQUIRE i.image_id IS UNIQUE"
        )
        existing = _query("SHOW INDEXES YIELD name, options WHERE name = $name RETURN options", name=index)
        if existing and existing[0][0]["indexConfig"]["vector.dimensions"] != dimensions:
            logger.info("Recreating %s for %d dimensions", index, dimensions)
            _query(f"DROP INDEX {vector_index_name(model)}")
        self._vector_index_create(model=model, dimensions=dimensions)
        _query("MERGE (s:IndexState {key: 'serving'}) ON CREATE SET s.model = $model", model=model)

    def _vector_index_create(self, *, model: str, dimensions: int) -> None:
        _query(
            f"CREATE VECTOR INDEX {vector_index_name(model)} IF NOT EXISTS "
            f"FOR (i:{_model_label(model)}) ON (i.embeddings) OPTIONS $options",
            options={"indexConfig": {"vector.dimensions": dimensions, **self.index_config}},
        )
        _query("CALL db.awaitIndexes($timeout_s)", timeout_s=INDEX_ONLINE_TIMEOUT_S)

    @_translating_unavailable
    def vector_index_rebuild(self, *, model: str, dimensions: int, even_if_served: bool = False) -> None:
        if model == self.serving_model() and not even_if_served:
            raise ValueError(f"{model} is being served; rebuilding its index would stop searches")
        _query(f"DROP INDEX {vector_index_name(model)} IF EXISTS")
        self._vector_index_create(model=model, dimensions=dimensions)

    def _legacy_schema_drop(self) -> None:
        """Graphs from before per-model labels: drop the shared index and the unique constraint on every
        :Image, and give old nodes their model's label, so they are served again without re-embedding."""
        legacy_index = _query(
            "SHOW INDEXES YIELD name WHERE name = $name RETURN name", name=_LEGACY_VECTOR_INDEX
        )
        legacy_constraints = _query(
            "SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties "
            "WHERE labelsOrTypes = ['Image'] AND properties = ['image_id'] RETURN name"
        )
        if not legacy_index and not legacy_constraints:
            return
        _query(f"DROP INDEX {_LEGACY_VECTOR_INDEX} IF EXISTS")
        for [name] in legacy_constraints:
            _query(f"DROP CONSTRAINT {_checked_identifier(name)}")  # a name read from Neo4j itself
        models = sorted(self.image_models())
        for model in models:
            _query(
                f"MATCH (i:Image {{model: $model}}) WHERE NOT i:{_model_label(model)} "
                f"CALL (i) {{ SET i:{_model_label(model)} }} IN TRANSACTIONS OF 5000 ROWS",
                model=model,
            )
            # Its own index, so the model served before the upgrade is searchable again without a reembed.
            [[dimensions]] = _query(
                "MATCH (i:Image {model: $model}) RETURN size(i.embeddings) LIMIT 1", model=model
            )
            self._vector_index_create(model=model, dimensions=dimensions)
        if len(models) == 1:  # a one-model legacy graph: its edges and its serving state are that model's
            _query("MERGE (s:IndexState {key: 'serving'}) ON CREATE SET s.model = $model", model=models[0])
            _query(
                "MATCH ()-[r:SIMILAR_TO]->() WHERE r.model IS NULL "
                "CALL (r) { SET r.model = $model } IN TRANSACTIONS OF 10000 ROWS",
                model=models[0],
            )

    @_translating_unavailable
    def serving_model(self) -> str | None:
        rows = _query("MATCH (s:IndexState {key: 'serving'}) RETURN s.model")
        return rows[0][0] if rows else None

    @_translating_unavailable
    def serving_switch(self, model: str) -> None:
        _query("MERGE (s:IndexState {key: 'serving'}) SET s.model = $model", model=_checked_model(model))

    @_translating_unavailable
    def model_drop(self, model: str) -> None:
        _query(f"MATCH (i:{_model_label(model)}) CALL (i) {{ DETACH DELETE i }} IN TRANSACTIONS OF 2000 ROWS")
        _query(
            "MATCH ()-[r:SIMILAR_TO {model: $model}]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS",
            model=model,
        )
        _query(f"DROP INDEX {vector_index_name(model)} IF EXISTS")
        _query(f"DROP CONSTRAINT {_model_label(model)}_image_id IF EXISTS")

    @_translating_unavailable
    def image_models(self) -> set[str]:
        return {row[0] for row in _query("MATCH (i:Image) WHERE i.model IS NOT NULL RETURN DISTINCT i.model")}

    @_translating_unavailable
    def image_vectors(self, product_id: int, *, model: str) -> list[list[float]]:
        rows = _query(
            "MATCH (:Product {product_id: $product_id})-[:HAS_IMAGE]->(i:Image {model: $model}) "
            "RETURN i.embeddings ORDER BY i.image_id",
            product_id=product_id,
            model=model,
        )
        return [list(row[0]) for row in rows]

    @_translating_unavailable
    def upsert_products(self, products: Sequence[ProductRecord]) -> None:
        _query(
            """
            UNWIND $rows AS row
            MERGE (p:Product {product_id: row.product_id})
            SET p.name = row.name, p.slug = row.slug, p.category = row.category,
                p.category_slug = row.category_slug, p.price = row.price, p.in_stock = row.in_stock
            """,
            rows=[vars(product) for product in products],
        )

    @_translating_unavailable
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
        _query(
            f"""
            UNWIND $rows AS row
            MERGE (p:Product {{product_id: row.product_id}})
            MERGE (i:{_model_label(model)} {{image_id: row.image_id}})
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

    @_translating_unavailable
    def delete_images(self, image_ids: Sequence[int]) -> None:
        _query("MATCH (i:Image) WHERE i.image_id IN $ids DETACH DELETE i", ids=list(image_ids))

    @_translating_unavailable
    def delete_products(self, product_ids: Sequence[int]) -> None:
        _query(
            """
            MATCH (p:Product) WHERE p.product_id IN $ids
            OPTIONAL MATCH (p)-[:HAS_IMAGE]->(i:Image)
            DETACH DELETE p, i
            """,
            ids=list(product_ids),
        )

    @_translating_unavailable
    def nearest_images_many(
        self, vectors: Sequence[Sequence[float]], *, k: int, model: str
    ) -> list[list[ImageHit]]:
        rows = _query(
            """
            UNWIND range(0, size($vectors) - 1) AS q
            CALL (q) {
                CALL db.index.vector.queryNodes($index, $k, $vectors[q]) YIELD node
                MATCH (p:Product)-[:HAS_IMAGE]->(node)
                WHERE node.model = $model
                // The index's own score is approximate (quantised HNSW); rescore the k candidates exactly
                // from the stored float vectors so every score Lookalike shows is the true cosine.
                RETURN node.image_id AS image_id, p.product_id AS product_id,
                       vector.similarity.cosine(node.embeddings, $vectors[q]) AS score
            }
            RETURN q, image_id, product_id, score
            ORDER BY q, score DESC, image_id
            """,
            index=vector_index_name(model),
            k=k,
            model=model,
            vectors=[[float(x) for x in v] for v in vectors],
        )
        hits: list[list[ImageHit]] = [[] for _ in vectors]
        for q, image_id, product_id, score in rows:
            hits[q].append(ImageHit(image_id=image_id, product_id=product_id, score=_cosine(score)))
        return hits

    @_translating_unavailable
    def nearest_images_filtered(
        self, vector: Sequence[float], *, k: int, model: str, where: ProductFilter
    ) -> FilteredHits:
        [[candidates, kept]] = _query(
            f"""
            CALL db.index.vector.queryNodes($index, $k, $vector) YIELD node
            MATCH (p:Product)-[:HAS_IMAGE]->(node)
            WHERE node.model = $model
            WITH node, p, {PRODUCT_FILTER} AS passes
            RETURN count(*) AS candidates,
                   collect(CASE WHEN passes THEN [node.image_id, p.product_id,
                           vector.similarity.cosine(node.embeddings, $vector)] END) AS kept
            """,
            index=vector_index_name(model),
            k=k,
            model=model,
            vector=[float(x) for x in vector],
            **_filter_params(where),
        )
        hits = [ImageHit(image_id=i, product_id=p, score=_cosine(s)) for i, p, s in kept]
        return FilteredHits(hits=sorted(hits, key=lambda h: (-h.score, h.image_id)), candidates=candidates)

    @_translating_unavailable
    def nearest_products_exact(
        self, vector: Sequence[float], *, k: int, model: str, where: ProductFilter, min_score: float | None
    ) -> list[ImageHit]:
        # With a category, start from its index instead of every product.
        rows = _query(
            f"""
            MATCH {_CATEGORY_PRODUCTS if where.category_slug is not None else _ALL_PRODUCTS}-[:HAS_IMAGE]->(node:Image)
            WHERE node.model = $model AND {PRODUCT_FILTER}
            WITH p, node, vector.similarity.cosine(node.embeddings, $vector) AS score
            WHERE $min_score IS NULL OR score >= $min_score
            ORDER BY score DESC, node.image_id
            WITH p, collect(node.image_id)[0] AS image_id, max(score) AS score
            RETURN image_id, p.product_id, score
            ORDER BY score DESC, p.product_id
            LIMIT $k
            """,
            vector=[float(x) for x in vector],
            k=k,
            model=model,
            min_score=_to_neo4j_score(min_score),
            **_filter_params(where),
        )
        return [ImageHit(image_id=i, product_id=p, score=_cosine(s)) for i, p, s in rows]

    @_translating_unavailable
    def similar_replace(self, product_id: int, neighbours: Sequence[Neighbour], *, model: str) -> None:
        _query(
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

    @_translating_unavailable
    def similar_offer(
        self, product_id: int, neighbours: Sequence[Neighbour], *, model: str, keep: int
    ) -> None:
        _query(
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

    @_translating_unavailable
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
        rows = _query(
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
            **_filter_params(where),
        )
        return [Neighbour(product_id=p, score=s) for p, s in rows]

    @_translating_unavailable
    def similar_sources(self, product_id: int) -> list[int]:
        rows = _query(
            "MATCH (q:Product)-[:SIMILAR_TO]->(:Product {product_id: $product_id}) RETURN DISTINCT q.product_id",
            product_id=product_id,
        )
        return [row[0] for row in rows]

    @_translating_unavailable
    def product_ids(self) -> set[int]:
        return {row[0] for row in _query("MATCH (p:Product) RETURN p.product_id")}

    @_translating_unavailable
    def image_ids(self) -> set[int]:
        return {row[0] for row in _query("MATCH (i:Image) RETURN DISTINCT i.image_id")}

    @_translating_unavailable
    def stats(self) -> GraphStats:
        """Counts for the serving model's images and edges."""
        serving = self.serving_model()
        [[products, images, edges]] = _query(
            """
            CALL () { MATCH (p:Product) RETURN count(p) AS products }
            CALL () { MATCH (i:Image {model: $model}) RETURN count(i) AS images }
            CALL () { MATCH ()-[r:SIMILAR_TO {model: $model}]->() RETURN count(r) AS edges }
            RETURN products, images, edges
            """,
            model=serving,
        )
        index = serving and _query(
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

    @_translating_unavailable
    def clear(self) -> None:
        # In batches: one transaction over 100k vectors exceeds db.memory.transaction.total.max.
        _query(
            """
            MATCH (n) WHERE n:Product OR n:Image OR n:IndexState
            CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 2000 ROWS
            """
        )

    # --- Consistency checks (search/consistency.py) -------------------------------------------------------

    @_translating_unavailable
    def image_shapes(self) -> list[ImageShape]:
        rows = _query(
            """
            MATCH (i:Image)
            OPTIONAL MATCH (p:Product)-[:HAS_IMAGE]->(i)
            // An image hanging off no product, or off several, has no single owner: reported as None.
            WITH i, count(p) AS owners, min(p.product_id) AS product_id
            RETURN i.image_id, CASE WHEN owners = 1 THEN product_id END, i.model, coalesce(size(i.embeddings), 0)
            """
        )
        return [ImageShape(image_id=i, product_id=p, model=m, dimensions=d) for i, p, m, d in rows]

    @_translating_unavailable
    def similar_edges(self) -> list[SimilarEdge]:
        rows = _query("MATCH (p)-[:SIMILAR_TO]->(q) RETURN p.product_id, q.product_id")
        return [SimilarEdge(source_id=p, target_id=q) for p, q in rows]

    @_translating_unavailable
    def similar_delete(self, edges: Sequence[SimilarEdge]) -> None:
        _query(
            """
            UNWIND $pairs AS pair
            MATCH (p:Product {product_id: pair[0]})-[r:SIMILAR_TO]->(q:Product {product_id: pair[1]})
            DELETE r
            """,
            pairs=[[e.source_id, e.target_id] for e in edges],
        )
