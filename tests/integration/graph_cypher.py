"""Raw Cypher for integration tests that look at (or damage) the graph behind the store's back."""

from __future__ import annotations

from typing import Any

from search.graph import graph_store


def cypher(query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
    """The rows of `query`, run in a write transaction (tests both read and plant drift) on the test server."""
    return graph_store().db.write(query, **(params or {}))
