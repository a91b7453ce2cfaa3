"""The Neo4j graph store: the GraphStore that Lookalike runs on, assembled from one module per concern.

    neo4j_connection  the driver (one per process and server), read/write transactions, error translation
    neo4j_schema      names, constraints, each model's vector index, serving state
    neo4j_writes      products, images and vectors, deletes
    neo4j_search      nearest images (vector index), filtered search, exact scan
    neo4j_similar     SIMILAR_TO upkeep and listing
    neo4j_stats       counts and consistency views

Lookalike talks to Neo4j through the official driver only (neomodel is not used; README "The graph" says
why). Every query is parameterised; no user string is ever spliced into Cypher.
"""

from __future__ import annotations

from typing import Any

from search.graph.base import GraphStore
from search.graph.neo4j_connection import Neo4jConnection
from search.graph.neo4j_schema import Neo4jSchema
from search.graph.neo4j_search import Neo4jSearch
from search.graph.neo4j_similar import Neo4jSimilarItems
from search.graph.neo4j_stats import Neo4jStats
from search.graph.neo4j_writes import Neo4jWrites


class Neo4jGraphStore(Neo4jSchema, Neo4jWrites, Neo4jSearch, Neo4jSimilarItems, Neo4jStats, GraphStore):
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
        quantization: str = "none",
        search_expansion: float | None = None,
    ):
        self.index_config = {
            "vector.similarity_function": "cosine",
            "vector.hnsw.m": hnsw_m,
            "vector.hnsw.ef_construction": hnsw_ef_construction,
            "vector.quantization.type": quantization.upper(),
        }
        if search_expansion:
            self.index_config["vector.default_search_expansion_factor"] = search_expansion
        self._index_exact: dict[str, bool] = {}
        self.db = Neo4jConnection(
            url=url,
            username=username,
            password=password,
            database=database,
            connection_timeout_s=connection_timeout_s,
        )

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
            search_expansion=settings.NEO4J_VECTOR_SEARCH_EXPANSION,
        )
