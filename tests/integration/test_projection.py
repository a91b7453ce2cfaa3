"""The catalog projection on the real Neo4j, real weights and real photos: `fit_projection` builds the fit's
version beside the served one and switches; searches, more-like-this, SIMILAR_TO and near-duplicates then
all read projected vectors (near-duplicates are then scored by the raw cosine), and rank as the same
computation in NumPy does. Switched off at the end, so the demo graph other tests read is the one they expect."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from catalog.importers import grocery_store_query_photos
from catalog.models import ProductImage
from search.duplicates import image_near_duplicates
from search.embeddings import embedder_get, image_decode
from search.fitting import projection_fit_create
from search.indexing import images_project, images_sync
from search.models import FitStatus, ProjectionFit, ViewEmbedding
from search.projection import normalised
from search.similar_edges import similar_lists_exact
from search.similarity import product_similar_list, search_by_image
from search.stored_vectors import vector_from_bytes
from search.versions import vectors_project, version_similar_min_score, versions_indexed
from tests.integration.graph_cypher import cypher

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

QUERY_STEP = 60  # every 60th held-out shop photo: ~40 queries


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("fit_projection", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _rebuild_similarity() -> str:
    out = io.StringIO()
    call_command("rebuild_similarity", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _nodes_by_model() -> dict[str, int]:
    rows = cypher("MATCH (i:Image) RETURN i.model, count(*)")
    return dict(rows)


def _edge_models() -> set[str]:
    rows = cypher("MATCH ()-[r:SIMILAR_TO]->() RETURN DISTINCT r.model")
    return {row[0] for row in rows}


def _catalog_in(version: str) -> tuple[np.ndarray, np.ndarray]:
    rows = list(ProductImage.objects.values_list("product_id", "embedding"))
    raw = np.stack([vector_from_bytes(bytes(e)) for _, e in rows])
    return np.array([p for p, _ in rows]), vectors_project(raw, version=version)


def _numpy_ranking(products: np.ndarray, vectors: np.ndarray, query: np.ndarray) -> list[tuple[int, float]]:
    best: dict[int, float] = {}
    for product_id, score in zip(products.tolist(), (vectors @ query).tolist(), strict=True):
        best[product_id] = max(best.get(product_id, -2.0), score)
    return sorted(best.items(), key=lambda item: (-item[1], item[0]))


# The whitening alone, and the default head on top of it fitted also on one augmented view per photo (embedded
# by the CNN from the stored files, then cached): both are one matrix, served by the same path.
@pytest.mark.parametrize("options", [("--no-head",), ("--views", "1")], ids=["whitening", "head+views"])
def test_fit_serves_projected_vectors_everywhere_and_matches_numpy(
    demo_catalog, neo4j_graph, grocery_dir, options
):
    images = ProductImage.objects.count()
    out = _command(*options)
    fit = ProjectionFit.objects.get(status=FitStatus.SERVED)
    try:
        assert f"switched from efficientnet_lite0 to {fit.version}" in out
        assert fit.grouping == "product" and fit.products == len(demo_catalog) and fit.images == images
        assert fit.dimensions == 1280  # whitening only (measured default)
        if "--views" in options:
            assert fit.views == 1 and fit.head_epochs > 0 and "head trained" in out
            photos = set(ProductImage.objects.values_list("content_hash", flat=True))
            assert ViewEmbedding.objects.count() == len(photos)  # cached for the next fit
            assert 0 < fit.views_seconds < fit.fit_seconds
        else:
            assert fit.views == 0 and fit.head_epochs == 0 and fit.views_seconds < 0.01
        assert neo4j_graph.stats().serving_model == fit.version
        # no search can mix versions: only the fit's nodes and edges are left
        assert _nodes_by_model() == {fit.version: images}
        assert _edge_models() == {fit.version}

        products, vectors = _catalog_in(fit.version)
        embedder = embedder_get("efficientnet_lite0")
        queries = grocery_store_query_photos(grocery_dir, shop_photos_per_product=3)[::QUERY_STEP]
        first_agree, top5_overlap = 0, 0.0
        for path, _ in queries:
            content = path.read_bytes()
            top = search_by_image(upload=SimpleUploadedFile("q.jpg", content, "image/jpeg"), k=5)
            raw = embedder.embed_one(image_decode(io.BytesIO(content), max_pixels=10**8))
            expected = _numpy_ranking(products, vectors, vectors_project(raw, version=fit.version))[:5]
            first_agree += top[0].product.pk == expected[0][0]
            top5_overlap += len({m.product.pk for m in top} & {p for p, _ in expected}) / 5
            assert top[0].score == pytest.approx(expected[0][1], abs=1e-3)
        # The index is approximate (its rescoring is exact): near-ties deep in the top 5 may differ.
        assert first_agree >= len(queries) - 1
        assert top5_overlap / len(queries) >= 0.9

        # more like this: the liked product's projected vectors, ranked as NumPy ranks them
        carrots = demo_catalog["Carrots"]
        liked = search_by_image(upload=None, liked_ids=[carrots], k=3)
        own = vectors[products == carrots].mean(axis=0)
        expected = [
            p for p, _ in _numpy_ranking(products, vectors, own / np.linalg.norm(own)) if p != carrots
        ]
        assert [m.product.pk for m in liked] == expected[:3]

        # similar items are scored in the fit's space
        similar = product_similar_list(product_id=carrots, limit=8)
        assert similar
        mine = vectors[products == carrots]
        for match in similar[:3]:
            theirs = vectors[products == match.product.pk]
            assert match.score == pytest.approx(float((mine @ theirs.T).max()), abs=1e-3)
        # every list the fit wrote (batched writes) is the exact NumPy list; so is `rebuild_similarity`'s,
        # which rebuilds the served version's lists, not the raw backbone's
        exact = similar_lists_exact(
            products,
            vectors,
            k=settings.LOOKALIKE_SIMILAR_K,
            min_score=version_similar_min_score(fit.version),
        )
        for rebuilt in (False, True):
            if rebuilt:
                assert fit.version in _rebuild_similarity()
            assert _edge_models() == {fit.version}
            for product_id, neighbours in exact.items():
                listed = neo4j_graph.similar_list(product_id, limit=50, model=fit.version)
                assert [n.product_id for n in listed] == [n.product_id for n in neighbours]
                assert [n.score for n in listed] == pytest.approx([n.score for n in neighbours], abs=1e-5)
        # near-duplicates: the fit's index finds the candidates, the raw backbone cosine scores them
        image = ProductImage.objects.filter(product_id=carrots).first()
        duplicates = image_near_duplicates(image.pk, threshold=-1.0)
        assert duplicates
        target = normalised(vector_from_bytes(bytes(image.embedding)))
        for duplicate in duplicates:
            other = normalised(
                vector_from_bytes(bytes(ProductImage.objects.get(pk=duplicate.image_id).embedding))
            )
            assert duplicate.score == pytest.approx(float(target @ other), abs=1e-4)
        assert [d.score for d in duplicates] == sorted((d.score for d in duplicates), reverse=True)
    finally:
        off = _command("--off")
    assert f"switched from {fit.version} to efficientnet_lite0" in off
    assert _nodes_by_model() == {"efficientnet_lite0": images}
    assert _edge_models() == {"efficientnet_lite0"}


def test_while_a_fit_is_built_searches_read_the_served_version_and_saves_reach_both(
    demo_catalog, neo4j_graph, grocery_dir
):
    fit = projection_fit_create()
    try:
        assert versions_indexed() == sorted(["efficientnet_lite0", fit.version])
        half = list(ProductImage.objects.select_related("product__category").order_by("pk")[:50])
        images_project(half, version=fit.version)  # a build under way
        path = grocery_dir / "train/Vegetables/Carrots/Carrots_020.jpg"
        upload = SimpleUploadedFile("q.jpg", path.read_bytes(), content_type="image/jpeg")
        products, vectors = _catalog_in("efficientnet_lite0")
        raw = embedder_get("efficientnet_lite0").embed_one(image_decode(str(path), max_pixels=10**8))
        expected = _numpy_ranking(products, vectors, raw)[:5]
        found = search_by_image(upload=upload, k=5)
        assert [(m.product.pk, round(m.score, 3)) for m in found] == [(p, round(s, 3)) for p, s in expected]

        # an image synced meanwhile goes into both versions
        image = ProductImage.objects.order_by("-pk").first()
        images_sync([image.pk])
        rows = cypher("MATCH (i:Image {image_id: $id}) RETURN i.model ORDER BY i.model", {"id": image.pk})
        assert [row[0] for row in rows] == sorted(["efficientnet_lite0", fit.version])
        assert _edge_models() <= {"efficientnet_lite0", fit.version}
    finally:
        neo4j_graph.model_drop(fit.version)
        ProjectionFit.objects.filter(pk=fit.pk).update(status=FitStatus.FAILED)
    assert set(_nodes_by_model()) == {"efficientnet_lite0"}
