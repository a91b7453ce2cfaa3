"""Search by photo through the real pipeline: Django -> EfficientNet-Lite0 -> Neo4j vector index."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.importers import grocery_store_query_photos
from search.embeddings import embedder_active, image_decode
from search.similarity import product_similar_list, search_by_image
from tests.integration.conftest import SHOP_PHOTOS_PER_PRODUCT
from tests.integration.graph_cypher import cypher

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

QUERY_SAMPLE_STEP = 25  # every 25th held-out shop photo: ~100 queries over all classes


def _upload(path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")


def test_each_catalogue_photo_finds_its_own_product_first(demo_catalog, grocery_dir):
    iconic = sorted((grocery_dir / "iconic-images-and-descriptions").rglob("*_Iconic.jpg"))
    for path in iconic[::8]:
        results = search_by_image(upload=_upload(path), k=5)
        assert results[0].product.name == path.stem.removesuffix("_Iconic").replace("-", " ")
        assert results[0].score == pytest.approx(1.0, abs=1e-3)


def test_shop_photos_find_a_product_of_their_class_in_the_top_5(demo_catalog, grocery_dir):
    queries = grocery_store_query_photos(grocery_dir, shop_photos_per_product=SHOP_PHOTOS_PER_PRODUCT)
    sample = queries[::QUERY_SAMPLE_STEP]
    hits_at_1 = hits_at_5 = 0
    for path, label in sample:
        names = [match.product.name for match in search_by_image(upload=_upload(path), k=5)]
        assert len(names) == len(set(names)) == 5  # products, not repeated images of one product
        hits_at_1 += names[0] == label
        hits_at_5 += label in names
    print(f"\nshop photos: precision@1 {hits_at_1}/{len(sample)}, top-5 hit rate {hits_at_5}/{len(sample)}")
    assert hits_at_5 / len(sample) >= 0.8


def test_results_are_ranked_best_first_with_cosine_scores(demo_catalog, grocery_dir):
    path = grocery_dir / "train/Vegetables/Carrots/Carrots_020.jpg"
    scores = [match.score for match in search_by_image(upload=_upload(path), k=10)]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= s <= 1.0 for s in scores)


def test_the_seed_articles_full_scan_query_runs_on_our_graph_and_agrees(demo_catalog, grocery_dir):
    """The seed ranked with gds.similarity.cosine over every :Image; the built-in function stands in for GDS."""
    path = grocery_dir / "train/Packages/Juice/Bravo-Apple-Juice/Bravo-Apple-Juice_010.jpg"
    vector = embedder_active().embed_one(image_decode(str(path), max_pixels=10**8))
    rows = cypher(
        """
        MATCH (i:Image)
        WITH i, vector.similarity.cosine(i.embeddings, $embedding) AS score
        MATCH (p:Product)-[:HAS_IMAGE]->(i)
        RETURN p.product_id, i.path, score ORDER BY score DESC LIMIT 1
        """,
        {"embedding": vector.tolist()},
    )
    [[seed_product_id, seed_path, seed_score]] = rows
    ours = search_by_image(upload=_upload(path), k=1)[0]
    assert ours.product.pk == seed_product_id
    assert seed_path.startswith("products/")
    assert ours.score == pytest.approx(2 * seed_score - 1, abs=2e-3)  # vector.similarity.cosine is (1+cos)/2


def test_similar_items_come_from_the_graph_best_first(demo_catalog):
    same_category = 0
    for _name, product_id in sorted(demo_catalog.items()):
        similar = product_similar_list(product_id=product_id, limit=8)
        scores = [m.score for m in similar]
        assert scores == sorted(scores, reverse=True)
        assert product_id not in {m.product.pk for m in similar}
        if similar:
            from catalog.models import Product

            same_category += similar[0].product.category_id == Product.objects.get(pk=product_id).category_id
    print(f"\nsimilar items: top item shares the category for {same_category}/{len(demo_catalog)} products")
    assert same_category / len(demo_catalog) >= 0.4  # measured 43/81; a random pick scores ~0.03


def test_similarity_is_consistent_with_numpy(demo_catalog, grocery_dir):
    """The index's best image for a query equals the exact best in NumPy over the stored embeddings."""
    from catalog.models import ProductImage
    from search.stored_vectors import vector_from_bytes

    images = list(ProductImage.objects.exclude(embedding=None).values_list("product_id", "embedding"))
    matrix = np.stack([vector_from_bytes(bytes(e)) for _, e in images])
    path = grocery_dir / "train/Vegetables/Zucchini/Zucchini_020.jpg"
    query = embedder_active().embed_one(image_decode(str(path), max_pixels=10**8))
    exact_best = images[int(np.argmax(matrix @ query))][0]
    assert search_by_image(upload=_upload(path), k=1)[0].product.pk == exact_best


def test_asking_for_every_product_returns_every_product(demo_catalog, grocery_dir):
    """k near the catalog size: the index is asked again for more until k distinct products come back."""
    from catalog.models import Product

    count = Product.objects.filter(images__isnull=False).distinct().count()
    path = grocery_dir / "train/Vegetables/Carrots/Carrots_020.jpg"
    results = search_by_image(upload=_upload(path), k=count)
    assert len({match.product.pk for match in results}) == len(results) == count
