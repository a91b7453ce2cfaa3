"""The Neo4j driver: one per process and server, run as the driver intends, errors in Lookalike's terms.

Reads run as managed read transactions (a `neo4j://` cluster or Aura routes them to secondaries), writes as
managed write transactions (the driver retries them on transient errors and leader changes). Only
`CALL { … } IN TRANSACTIONS`, which must commit batch by batch itself, runs in an auto-commit transaction.
Every session shares the driver's bookmark manager, so a read always sees the writes made before it.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import neo4j
import neo4j.exceptions
import numpy as np
from neo4j.vector import Vector

from search.graph.base import GraphMisconfigured, GraphUnavailable

# Errors that mean "the server is not there right now", as opposed to a bug in a query or a bad setting.
_UNAVAILABLE = (
    neo4j.exceptions.ServiceUnavailable,
    neo4j.exceptions.SessionExpired,
    # Deadlocks between concurrent writers (two sync workers offering SIMILAR_TO to the same product) that
    # outlast the driver's retries of the managed transaction: try later.
    neo4j.exceptions.TransientError,
    ConnectionError,
    OSError,
)
# Errors no retry will cure: the settings are wrong.
_MISCONFIGURED = (neo4j.exceptions.AuthError, neo4j.exceptions.ConfigurationError)
_DATABASE_NOT_FOUND = "Neo.ClientError.Database.DatabaseNotFound"


def bolt_target(url: str, *, username: str, password: str, database: str) -> tuple[str, tuple[str, str], str]:
    """(address, auth, database): credentials and database may sit in the URL (`bolt://u:p@host/db`)."""
    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port}" if parts.port else (parts.hostname or "")
    address = parts._replace(netloc=host, path="").geturl()
    return (
        address,
        (parts.username or username, parts.password or password),
        parts.path.strip("/") or database,
    )


def float32_vector(values: Sequence[float] | np.ndarray) -> Vector:
    """A vector parameter sent as packed float32 (Bolt 6): a quarter of the bytes of a list of floats and
    no per-element encoding, for writes (db.create.setNodeVectorProperty) and queries alike. Neo4j stores
    it as the same float array a list would give (Community's store has no VECTOR property type)."""
    return Vector.from_numpy(np.ascontiguousarray(values, dtype=np.float32))


def _index_missing(exc: neo4j.exceptions.ClientError) -> bool:
    # A model's vector index is dropped by a switch and rebuilt by reembed: for that while, searches of it
    # are "unavailable" (503, retried), not a bug. Neo4j says so only in the message.
    message = (exc.message or "").lower()
    return "index" in message and (
        "no such" in message or "not online" in message or "does not exist" in message
    )


@contextmanager
def translated_errors(address: str) -> Iterator[None]:
    try:
        yield
    except _MISCONFIGURED as exc:
        raise GraphMisconfigured(
            f"Neo4j at {address} refused the connection settings ({exc.__class__.__name__}: {exc}); "
            "check NEO4J_BOLT_URL, NEO4J_USERNAME, NEO4J_PASSWORD and NEO4J_DATABASE"
        ) from exc
    except _UNAVAILABLE as exc:
        raise GraphUnavailable(f"Neo4j is unavailable: {exc.__class__.__name__}: {exc}") from exc
    except neo4j.exceptions.ClientError as exc:
        if exc.code == _DATABASE_NOT_FOUND:
            raise GraphMisconfigured(f"Neo4j at {address}: {exc.message}; check NEO4J_DATABASE") from exc
        if _index_missing(exc):
            raise GraphUnavailable(f"The vector index is not available right now: {exc.message}") from exc
        raise


def _rows(tx: neo4j.ManagedTransaction, cypher: str, params: dict[str, Any]) -> list[list[Any]]:
    # Consumed inside the transaction function, so a retried transaction never hands back a half-read result.
    return tx.run(cypher, params).values()


class Neo4jConnection:
    """Queries against one database of one server. Cheap to create: the driver underneath is shared."""

    def __init__(
        self,
        *,
        url: str,
        username: str,
        password: str,
        database: str,
        connection_timeout_s: float,
    ):
        self.address, auth, self.database = bolt_target(
            url, username=username, password=password, database=database
        )
        self.driver = _driver_shared(self.address, auth, connection_timeout_s)

    def _session(self, access_mode: str) -> neo4j.Session:
        return self.driver.session(
            database=self.database,
            default_access_mode=access_mode,
            bookmark_manager=self.driver.execute_query_bookmark_manager,
        )

    def read(self, cypher: str, **params: Any) -> list[list[Any]]:
        with translated_errors(self.address), self._session(neo4j.READ_ACCESS) as session:
            return session.execute_read(_rows, cypher, params)

    def write(self, cypher: str, **params: Any) -> list[list[Any]]:
        with translated_errors(self.address), self._session(neo4j.WRITE_ACCESS) as session:
            return session.execute_write(_rows, cypher, params)

    def autocommit(self, cypher: str, **params: Any) -> list[list[Any]]:
        """For `CALL { … } IN TRANSACTIONS` and schema waits, which cannot run inside a managed transaction.
        Not retried by the driver: every such query here is idempotent, so the caller may simply run it again."""
        with translated_errors(self.address), self._session(neo4j.WRITE_ACCESS) as session:
            return session.run(cypher, params).values()


# One driver (and its connection pool) per process and server: stores made afresh (settings changes in
# tests, cache clears) reuse it instead of leaking a pool each time. Keyed by pid too, because a driver's
# sockets must not cross a fork (gunicorn workers). All are closed when the process exits.
_drivers: dict[tuple[Any, ...], neo4j.Driver] = {}
_drivers_lock = threading.Lock()


def _driver_shared(address: str, auth: tuple[str, str], connection_timeout_s: float) -> neo4j.Driver:
    key = (os.getpid(), address, auth, connection_timeout_s)
    with _drivers_lock:
        driver = _drivers.get(key)
        if driver is None:
            driver = neo4j.GraphDatabase.driver(
                address,
                auth=auth,
                connection_timeout=connection_timeout_s,
                connection_acquisition_timeout=connection_timeout_s * 2,
                # A few quick retries; past that the caller reports the outage (pending images, 503).
                max_transaction_retry_time=connection_timeout_s,
            )
            _drivers[key] = driver
        return driver


def drivers_close() -> None:
    """Close every driver this process opened (at exit; tests may call it too)."""
    with _drivers_lock:
        drivers = [d for (pid, *_), d in _drivers.items() if pid == os.getpid()]
        _drivers.clear()
    for driver in drivers:
        driver.close()


atexit.register(drivers_close)
