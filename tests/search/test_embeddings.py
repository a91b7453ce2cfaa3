from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
import urllib.error

import numpy as np
import pytest
from django.conf import settings

from core.images import image_decode
from search import embeddings
from search.backbones import BackboneUnavailable, backbone_get
from search.embeddings import embedder_get
from search.stored_vectors import vector_from_bytes, vector_to_bytes
from tests.conftest import jpeg_bytes

MAX_PIXELS = 40_000_000


def test_django_starts_without_importing_torch():
    """torch costs ~5 s of CPU to import: a page, a command or an import without embedding must not pay it."""
    script = (
        "import sys, django; django.setup(); "
        "from django.urls import get_resolver; get_resolver().url_patterns; "  # every view, the API, the admin
        "import search.tasks, search.fitting, search.autofit, search.reindex, search.similarity; "
        "print('torch' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
        env=env,
    )
    assert run.stdout.strip() == "False", run.stderr


def test_registry_knows_both_backbones():
    assert backbone_get("efficientnet_lite0").dimensions == 1280
    assert backbone_get("resnet50").dimensions == 2048
    with pytest.raises(ValueError, match="Unknown backbone"):
        backbone_get("vgg16")


def test_resnet50_without_a_checkpoint_fails_clearly_without_touching_the_network(monkeypatch, tmp_path):
    import torchvision.models._api

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("LOOKALIKE_WEIGHTS_DOWNLOAD", raising=False)
    monkeypatch.setattr(
        torchvision.models._api, "load_state_dict_from_url", lambda *a, **k: pytest.fail("network")
    )
    with pytest.raises(
        BackboneUnavailable, match=r"ResNet50_Weights.IMAGENET1K_V2\) at .*resnet50-11ad3fa6.pth"
    ):
        embeddings.Embedder(backbone_get("resnet50"))


def test_resnet50_whose_download_fails_is_an_error_never_random_weights(monkeypatch, tmp_path):
    import torchvision.models._api

    def offline(*args, **kwargs):
        raise urllib.error.URLError("offline (simulated)")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("LOOKALIKE_WEIGHTS_DOWNLOAD", "1")
    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", offline)
    with pytest.raises(BackboneUnavailable, match="offline \\(simulated\\)"):
        embeddings.Embedder(backbone_get("resnet50"))


def test_efficientnet_embeddings_are_unit_vectors_and_batch_invariant():
    embedder = embedder_get("efficientnet_lite0")
    images = [
        image_decode(io.BytesIO(jpeg_bytes(color=c, size=(300, 260))), max_pixels=MAX_PIXELS)
        for c in [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    ]
    batched = np.stack(list(embedder.embed_many(images, batch_size=2)))
    single = np.stack([embedder.embed_one(image) for image in images])
    assert batched.shape == (3, 1280)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert np.allclose(batched, single, atol=1e-4)
    assert not embedder.model.training


def test_pretrained_weights_tell_fruit_apart(grocery_dir):
    """Real weights, real photos: two photos of one product are closer than photos of different products."""
    embedder = embedder_get("efficientnet_lite0")
    photo = lambda name: image_decode(str(grocery_dir / name), max_pixels=MAX_PIXELS)  # noqa: E731
    banana_a, banana_b = (embedder.embed_one(photo(f"train/Fruit/Banana/Banana_{n:03d}.jpg")) for n in (1, 2))
    milk = embedder.embed_one(photo("train/Packages/Milk/Arla-Standard-Milk/Arla-Standard-Milk_001.jpg"))
    assert float(banana_a @ banana_b) > float(banana_a @ milk) + 0.1


def test_vector_bytes_round_trip():
    vector = np.linspace(-1, 1, 1280, dtype=np.float32)
    assert np.array_equal(vector_from_bytes(vector_to_bytes(vector)), vector)


def test_preprocessed_batches_give_the_vectors_of_the_images():
    """The worker preprocesses in its decode-ahead thread and hands tensors over: same vectors as images."""
    embedder = embedder_get("efficientnet_lite0")
    images = [
        image_decode(io.BytesIO(jpeg_bytes(color=c, size=(300, 260))), max_pixels=MAX_PIXELS)
        for c in [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    ]
    batches = list(embedder.embed_preprocessed(map(embedder.preprocess, images), batch_size=2))
    assert [len(batch) for batch in batches] == [2, 1]
    assert np.allclose(np.concatenate(batches), np.stack(list(embedder.embed_many(images))), atol=1e-5)


def test_forward_passes_from_two_threads_run_one_at_a_time(monkeypatch):
    """A worker's lanes share the model: two passes at once would oversubscribe the torch threads."""
    embedder = embedder_get("efficientnet_lite0")
    inside, most = [0], [0]
    real_model = embedder.model

    def counting(batch):  # type: ignore[no-untyped-def]
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.05)  # long enough for the other thread to arrive
        inside[0] -= 1
        return real_model(batch)

    monkeypatch.setattr(embedder, "model", counting)
    tensor = embedder.preprocess(image_decode(io.BytesIO(jpeg_bytes(color=(9, 9, 9))), max_pixels=MAX_PIXELS))
    threads = [threading.Thread(target=embedder._embed_batch, args=([tensor],)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


def test_warming_a_backbone_that_cannot_load_logs_and_never_raises(monkeypatch, tmp_path, settings, caplog):
    from search.serving import embedder_warm

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("LOOKALIKE_WEIGHTS_DOWNLOAD", raising=False)
    settings.LOOKALIKE_BACKBONE = "resnet50"
    embedder_warm()
    assert "could not be loaded ahead of the first search" in caplog.text
    assert "resnet50" not in embeddings._embedders
