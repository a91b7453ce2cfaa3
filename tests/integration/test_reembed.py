"""Switching backbones on the real Neo4j: `reembed` builds the new model's index beside the served one,
switches, drops the old, and the shop keeps finding the right products. It switches back at the end, so
the demo graph other tests read is the one they expect."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from catalog.models import ProductImage
from search.embeddings import embedder_get, image_decode
from search.similarity import product_similar_list, search_by_image
from search.stored_vectors import vector_from_bytes
from tests.integration.graph_cypher import cypher

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

QUERIES = {
    "Carrots": "train/Vegetables/Carrots/Carrots_020.jpg",
    "Bravo Apple Juice": "train/Packages/Juice/Bravo-Apple-Juice/Bravo-Apple-Juice_010.jpg",
}


def _top_names(grocery_dir, path: str) -> list[str]:
    upload = SimpleUploadedFile("q.jpg", (grocery_dir / path).read_bytes(), content_type="image/jpeg")
    return [match.product.name for match in search_by_image(upload=upload, k=5)]


def _image_nodes_by_model() -> dict[str, int]:
    rows = cypher("MATCH (i:Image) RETURN i.model, count(*)")
    return dict(rows)


def _exact_best_product(grocery_dir, path: str, model: str) -> int:
    """The product whose best image is nearest, by NumPy over the database's vectors of `model`."""
    query = embedder_get(model).embed_one(image_decode(str(grocery_dir / path), max_pixels=10**8))
    rows = ProductImage.objects.filter(embedding_model=model).values_list("product_id", "embedding")
    scores = {}
    for product_id, data in rows:
        scores[product_id] = max(scores.get(product_id, -2.0), float(vector_from_bytes(bytes(data)) @ query))
    return max(scores, key=scores.get)


def _reembed() -> str:
    out = io.StringIO()
    call_command("reembed", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_reembed_switches_backbones_without_mixing_and_back(
    demo_catalog, neo4j_graph, second_backbone, settings, grocery_dir
):
    images = ProductImage.objects.count()
    before = {label: _top_names(grocery_dir, path) for label, path in QUERIES.items()}
    settings.LOOKALIKE_BACKBONE = second_backbone.name
    try:
        assert f"switched from efficientnet_lite0 to {second_backbone.name}" in _reembed()

        stats = neo4j_graph.stats()
        assert stats.serving_model == second_backbone.name and stats.vector_index == "ONLINE 640d cosine"
        assert _image_nodes_by_model() == {second_backbone.name: images}
        assert "Carrots" in _top_names(grocery_dir, QUERIES["Carrots"])[:3]
        for path in QUERIES.values():  # served from the new model's vectors, ranked as exact search ranks
            upload = SimpleUploadedFile("q.jpg", (grocery_dir / path).read_bytes(), content_type="image/jpeg")
            top = search_by_image(upload=upload, k=1)[0].product.pk
            assert top == _exact_best_product(grocery_dir, path, second_backbone.name)
        product_id = demo_catalog["Carrots"]
        assert product_similar_list(product_id=product_id, limit=8)
        rows = cypher("MATCH ()-[r:SIMILAR_TO]->() RETURN DISTINCT r.model")
        assert rows == [[second_backbone.name]]
    finally:
        settings.LOOKALIKE_BACKBONE = "efficientnet_lite0"
        switched_back = _reembed()
    assert f"switched from {second_backbone.name} to efficientnet_lite0" in switched_back
    assert _image_nodes_by_model() == {"efficientnet_lite0": images}
    assert {label: _top_names(grocery_dir, path) for label, path in QUERIES.items()} == before
