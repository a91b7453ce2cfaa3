"""No Cypher in the Neo4j store is built from anything but fixed module constants: user input travels as parameters."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import search.graph.neo4j_schema as neo4j_schema

STORE_MODULES = sorted(Path(neo4j_schema.__file__).parent.glob("neo4j_*.py"))
# The connection's three ways to run a query; every call of them must show its query.
QUERY_METHODS = {"self.db.read", "self.db.write", "self.db.autocommit"}


def _module_string_constants(tree: ast.Module) -> set[str]:
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id.isupper()
    }


# Labels and index names cannot be parameters; these functions let only [A-Za-z0-9_] names through.
# `index_where` joins only fixed predicate fragments (SEARCH's WHERE cannot take "no filter" as a null).
VALIDATORS = {"model_label", "vector_index_name", "checked_identifier", "index_where"}


def _is_fixed(expression: ast.expr, constants: set[str]) -> bool:
    """A module constant, a validated name, or a choice between module constants."""
    if isinstance(expression, ast.Name):
        return expression.id in constants
    if isinstance(expression, ast.Call):
        return ast.unparse(expression.func) in VALIDATORS
    if isinstance(expression, ast.IfExp):
        return _is_fixed(expression.body, constants) and _is_fixed(expression.orelse, constants)
    return False


def _imported_constants(tree: ast.Module) -> set[str]:
    # PRODUCT_FILTER and friends are shared between the store's modules: upper-case names imported from them.
    return {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("search.graph.neo4j_")
        for alias in node.names
        if alias.name.isupper()
    }


def test_model_names_are_validated_before_they_reach_cypher():
    with pytest.raises(ValueError):
        neo4j_schema.vector_index_name("x) DETACH DELETE n //")
    with pytest.raises(ValueError):
        neo4j_schema.checked_identifier("a`b")
    assert neo4j_schema.vector_index_name("efficientnet_lite0") == "image_embeddings_efficientnet_lite0"


def test_the_index_filter_is_assembled_from_fixed_fragments_only():
    from search.graph.base import ProductFilter
    from search.graph.neo4j_search import index_where

    assert index_where(ProductFilter()) == ""
    assert index_where(ProductFilter(exclude_ids=(1,))) == ""
    assert index_where(ProductFilter(category_slug="x'; MATCH (n) DETACH DELETE n //", in_stock=False)) == (
        "WHERE node.category_slug = $f_category AND node.in_stock = $f_in_stock"
    )
    assert index_where(ProductFilter(min_price=1.0, max_price=2.0)) == (
        "WHERE node.price >= $f_min_price AND node.price <= $f_max_price"
    )


def test_every_query_is_a_literal_or_an_f_string_of_constants():
    calls = 0
    for source in STORE_MODULES:
        tree = ast.parse(source.read_text())
        constants = _module_string_constants(tree) | _imported_constants(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and ast.unparse(node.func) in QUERY_METHODS and node.args):
                continue
            calls += 1
            query = node.args[0]
            if isinstance(query, ast.Name):
                assert query.id in constants, f"{source.name}: {ast.unparse(node)}"
                continue
            assert isinstance(query, (ast.Constant, ast.JoinedStr)), f"{source.name}: {ast.unparse(node)}"
            if isinstance(query, ast.JoinedStr):
                for value in query.values:
                    if isinstance(value, ast.FormattedValue):
                        assert _is_fixed(value.value, constants), f"{source.name}: {ast.unparse(node)}"
    assert calls >= 25


@pytest.mark.parametrize("source", STORE_MODULES, ids=lambda p: p.name)
def test_no_percent_or_format_string_building_in_the_store(source):
    tree = ast.parse(source.read_text())
    percent = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.BinOp)
        and isinstance(n.op, ast.Mod)
        and isinstance(n.left, ast.Constant)
        and isinstance(n.left.value, str)
    ]
    format_calls = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "format"]
    concatenated = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.BinOp)
        and isinstance(n.op, ast.Add)
        and any(isinstance(side, ast.Constant) and isinstance(side.value, str) for side in (n.left, n.right))
    ]
    assert not percent and not format_calls and not concatenated
