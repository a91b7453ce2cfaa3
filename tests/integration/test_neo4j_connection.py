"""The Neo4j connection against the real test server: transactions as the driver intends, errors in our terms."""

from __future__ import annotations

import os
import subprocess
import sys

import neo4j.exceptions
import pytest
from django.conf import settings

from search.graph import GraphMisconfigured, GraphUnavailable
from search.graph.neo4j_store import Neo4jGraphStore

pytestmark = pytest.mark.integration


def _store(**overrides) -> Neo4jGraphStore:
    options = {
        "url": settings.NEO4J_BOLT_URL,
        "username": settings.NEO4J_USERNAME,
        "password": settings.NEO4J_PASSWORD,
        "database": settings.NEO4J_DATABASE,
        "connection_timeout_s": 3.0,
    }
    return Neo4jGraphStore(**{**options, **overrides})


def test_a_wrong_password_is_a_misconfiguration_not_an_outage(neo4j_graph):
    with pytest.raises(GraphMisconfigured, match="NEO4J_PASSWORD"):
        _store(password="not-the-password").stats()


def test_an_unknown_database_is_a_misconfiguration(neo4j_graph):
    with pytest.raises(GraphMisconfigured, match="NEO4J_DATABASE"):
        _store(database="nosuchdatabase").products()


def test_a_server_that_is_not_there_is_an_outage(neo4j_graph):
    with pytest.raises(GraphUnavailable) as caught:
        _store(url="bolt://127.0.0.1:9", connection_timeout_s=0.5).products()
    assert not isinstance(caught.value, GraphMisconfigured)


def test_reads_run_in_read_transactions(neo4j_graph):
    # A cluster routes these to secondaries, which could not write: a write sent as a read must fail.
    with pytest.raises(neo4j.exceptions.ClientError):
        neo4j_graph.db.read("CREATE (:LookalikeReadProbe)")
    assert neo4j_graph.db.read("MATCH (n:LookalikeReadProbe) RETURN count(n)") == [[0]]
    neo4j_graph.db.write("CREATE (:LookalikeReadProbe)")
    assert neo4j_graph.db.read("MATCH (n:LookalikeReadProbe) RETURN count(n)") == [[1]]
    neo4j_graph.db.write("MATCH (n:LookalikeReadProbe) DELETE n")


def test_stores_share_one_driver_per_server(neo4j_graph):
    first, second = _store(), _store()
    assert first.db.driver is second.db.driver is neo4j_graph.db.driver


def test_the_driver_is_closed_when_the_process_exits(neo4j_graph):
    # The driver warns (ResourceWarning) when it is collected unclosed; as an error, that fails the child.
    script = (
        "import django; django.setup()\n"
        "from search.graph import graph_store\n"
        "assert graph_store().products() is not None\n"
    )
    child = subprocess.run(
        [sys.executable, "-W", "error::ResourceWarning", "-X", "dev", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    assert child.returncode == 0, child.stderr
    assert "Unclosed" not in child.stderr and "ResourceWarning" not in child.stderr, child.stderr
