"""No Cypher in the Neo4j store is built from anything but fixed module constants: user input travels as parameters."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import search.graph.neo4j as neo4j_store

SOURCE = Path(neo4j_store.__file__)


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
VALIDATORS = {"_model_label", "vector_index_name", "_checked_identifier"}


def _is_fixed(expression: ast.expr, constants: set[str]) -> bool:
    """A module constant, a validated name, or a choice between module constants."""
    if isinstance(expression, ast.Name):
        return expression.id in constants
    if isinstance(expression, ast.Call):
        return ast.unparse(expression.func) in VALIDATORS
    if isinstance(expression, ast.IfExp):
        return _is_fixed(expression.body, constants) and _is_fixed(expression.orelse, constants)
    return False


def test_model_names_are_validated_before_they_reach_cypher():
    with pytest.raises(ValueError):
        neo4j_store.vector_index_name("x) DETACH DELETE n //")
    with pytest.raises(ValueError):
        neo4j_store._checked_identifier("a`b")
    assert neo4j_store.vector_index_name("efficientnet_lite0") == "image_embeddings_efficientnet_lite0"


def test_every_query_is_a_literal_or_an_f_string_of_constants():
    tree = ast.parse(SOURCE.read_text())
    constants = _module_string_constants(tree)
    # `_query` itself passes its `cypher` argument on; every other call must show its query.
    [query_function] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_query"]
    pass_through = {id(n) for n in ast.walk(query_function)}
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and ast.unparse(node.func) in {"_query", "db.cypher_query"}
        and node.args
        and id(node) not in pass_through
    ]
    assert len(calls) >= 15
    for call in calls:
        query = call.args[0]
        assert isinstance(query, (ast.Constant, ast.JoinedStr)), ast.unparse(call)
        if isinstance(query, ast.JoinedStr):
            for value in query.values:
                if isinstance(value, ast.FormattedValue):
                    assert _is_fixed(value.value, constants), ast.unparse(call)


def test_no_percent_or_format_string_building_in_the_store():
    tree = ast.parse(SOURCE.read_text())
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
