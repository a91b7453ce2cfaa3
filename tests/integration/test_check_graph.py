"""check_graph against the real Neo4j: drift made by hand in the graph is found, and --fix repairs it."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Product, ProductImage
from search.backbones import backbone_get
from search.consistency import graph_drift_find, graph_drift_fix
from tests.integration.graph_cypher import cypher

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

BACKBONE = backbone_get("efficientnet_lite0")
ORPHAN_ID = 990_000_001


def _cypher(query: str, **params) -> list:
    return cypher(query, params)


@pytest.fixture
def drifted_graph(demo_catalog, neo4j_graph):
    """Seven kinds of drift in the demo graph; repaired afterwards whatever the test did."""
    missing, stale, short, misplaced, doubled = ProductImage.objects.order_by("pk")[:5]
    other_product = ProductImage.objects.exclude(product_id=misplaced.product_id).first().product_id
    _cypher("MATCH (i:Image {image_id: $id}) DETACH DELETE i", id=missing.pk)
    _cypher(  # a node of another backbone, as an unfinished reembed would leave
        "MATCH (p:Product)-[:HAS_IMAGE]->(:Image {image_id: $id}) "
        "CREATE (p)-[:HAS_IMAGE]->(:Image:Image_resnet50 {image_id: $id, model: 'resnet50', embeddings: [0.6, 0.8]})",
        id=stale.pk,
    )
    _cypher("MATCH (i:Image {image_id: $id}) SET i.embeddings = [0.6, 0.8]", id=short.pk)
    _cypher(
        """
        MATCH (old:Product)-[r:HAS_IMAGE]->(i:Image {image_id: $id}), (new:Product {product_id: $other})
        DELETE r CREATE (new)-[:HAS_IMAGE]->(i)
        """,
        id=misplaced.pk,
        other=other_product,
    )
    third_product = ProductImage.objects.exclude(
        product_id__in=[misplaced.product_id, doubled.product_id]
    ).first()
    _cypher(
        "MATCH (i:Image {image_id: $id}), (extra:Product {product_id: $other}) CREATE (extra)-[:HAS_IMAGE]->(i)",
        id=doubled.pk,
        other=third_product.product_id,
    )
    _cypher(
        """
        CREATE (o:Product {product_id: $orphan})-[:HAS_IMAGE]->(:Image {image_id: $orphan, model: $model})
        WITH o MATCH (p:Product {product_id: $pid})
        CREATE (p)-[:SIMILAR_TO {score: 0.9}]->(o), (p)-[:SIMILAR_TO {score: 1.0}]->(p)
        """,
        orphan=ORPHAN_ID,
        model=BACKBONE.name,
        pid=missing.product_id,
    )
    # Filter values the vector index filters on, lagging behind the catalog (a missed price change, a
    # category renamed while Neo4j was down): on one product's images, and on another product's node.
    used = {i.product_id for i in (missing, stale, short, misplaced, doubled, third_product)} | {
        other_product
    }
    price_lag, category_lag = Product.objects.exclude(pk__in=used).order_by("pk")[:2]
    _cypher("MATCH (:Product {product_id: $id})-[:HAS_IMAGE]->(i:Image) SET i.price = -1.0", id=price_lag.pk)
    _cypher("MATCH (p:Product {product_id: $id}) SET p.category_slug = 'renamed-away'", id=category_lag.pk)
    yield {
        "missing": missing,
        "stale": stale,
        "short": short,
        "misplaced": misplaced,
        "doubled": doubled,
        "filter_lag": {price_lag.pk, category_lag.pk},
    }
    graph_drift_fix(drift=graph_drift_find(backbone=BACKBONE), backbone=BACKBONE)


def test_drift_made_in_neo4j_is_found(drifted_graph):
    drift = graph_drift_find(backbone=BACKBONE)

    assert drift.missing_images == {drifted_graph["missing"].pk}
    assert drift.stale_model_images == {drifted_graph["stale"].pk}
    assert drift.wrong_dimension_images == {drifted_graph["short"].pk}
    assert drift.misplaced_images == {drifted_graph["misplaced"].pk, drifted_graph["doubled"].pk}
    assert drift.orphan_products == drift.orphan_images == {ORPHAN_ID}
    assert drift.stale_products >= drifted_graph["filter_lag"]
    source = drifted_graph["missing"].product_id
    assert {(e.source_id, e.target_id) for e in drift.dangling_edges} >= {
        (source, ORPHAN_ID),
        (source, source),
    }


def test_check_graph_exits_non_zero_until_fixed(drifted_graph, neo4j_graph, capsys):
    with pytest.raises(CommandError, match="drifted"):
        call_command("check_graph")
    assert "orphan products" in capsys.readouterr().out

    call_command("check_graph", "--fix")

    call_command("check_graph")  # clean now: no CommandError
    assert neo4j_graph.stats().images == ProductImage.objects.count()
    assert not _cypher("MATCH (p:Product)-[r:SIMILAR_TO]->(p) RETURN r")
    assert not _cypher(
        "MATCH (p:Product)-[:HAS_IMAGE]->(i:Image) WITH i, count(p) AS owners WHERE owners <> 1 RETURN i"
    )
    [[model, size]] = _cypher(
        "MATCH (i:Image {image_id: $id}) RETURN i.model, size(i.embeddings)", id=drifted_graph["stale"].pk
    )
    assert (model, size) == (BACKBONE.name, BACKBONE.dimensions)


def test_renamed_category_and_changed_price_are_found_and_fixed(demo_catalog, neo4j_graph):
    """Property drift: rows changed without their signals (a bulk update, a write during an outage)."""
    kiwi = ProductImage.objects.filter(product__name="Kiwi").first().product
    category = kiwi.category
    old_name, old_slug, old_price = category.name, category.slug, kiwi.price
    type(category).objects.filter(pk=category.pk).update(name="Kiwifruit", slug="kiwifruit")
    type(kiwi).objects.filter(pk=kiwi.pk).update(price=old_price + 1)
    try:
        with pytest.raises(CommandError, match="drifted"):
            call_command("check_graph")
        assert graph_drift_find(backbone=BACKBONE).stale_products == {kiwi.pk}

        call_command("check_graph", "--fix")

        call_command("check_graph")  # clean now
        [[slug, name, price]] = _cypher(
            "MATCH (p:Product {product_id: $id}) RETURN p.category_slug, p.category, p.price", id=kiwi.pk
        )
        assert (slug, name, price) == ("kiwifruit", "Kiwifruit", float(old_price + 1))
    finally:
        type(category).objects.filter(pk=category.pk).update(name=old_name, slug=old_slug)
        type(kiwi).objects.filter(pk=kiwi.pk).update(price=old_price)
        graph_drift_fix(drift=graph_drift_find(backbone=BACKBONE), backbone=BACKBONE)
