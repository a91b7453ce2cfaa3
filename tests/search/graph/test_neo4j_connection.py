from __future__ import annotations

import pytest

from search.graph.neo4j_connection import bolt_target


@pytest.mark.parametrize(
    "url, expected",
    [
        ("bolt://127.0.0.1:7687", ("bolt://127.0.0.1:7687", ("neo4j", "from-settings"), "neo4j")),
        ("neo4j+s://u:p@abc.databases.neo4j.io", ("neo4j+s://abc.databases.neo4j.io", ("u", "p"), "neo4j")),
        ("bolt://me@graph:7687/shop", ("bolt://graph:7687", ("me", "from-settings"), "shop")),
    ],
)
def test_bolt_urls_may_carry_credentials_and_a_database(url, expected):
    assert bolt_target(url, username="neo4j", password="from-settings", database="neo4j") == expected
