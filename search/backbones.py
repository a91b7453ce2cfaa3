"""The backbones the project can embed with: name, output dimensions, input normalisation and how to load one.

Plain data, so that Django's start, the graph's schema and the versions can read a backbone's dimensions
without importing torch (~5 s of CPU per process); the model loads through `Backbone.load`, on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    import torch


class BackboneUnavailable(RuntimeError):
    """The backbone's pretrained weights cannot be loaded on this machine."""


@dataclass(frozen=True)
class Backbone:
    name: str
    dimensions: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    loader: str  # dotted path of a function returning the model with its classifier cut off

    def load(self) -> torch.nn.Module:
        return import_string(self.loader)()


BACKBONES: dict[str, Backbone] = {
    "efficientnet_lite0": Backbone(
        name="efficientnet_lite0",
        dimensions=1280,
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        loader="search.embeddings.efficientnet_lite0_load",
    ),
    "resnet50": Backbone(
        name="resnet50",
        dimensions=2048,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
        loader="search.embeddings.resnet50_load",
    ),
}


def backbone_get(name: str) -> Backbone:
    try:
        return BACKBONES[name]
    except KeyError:
        raise ValueError(f"Unknown backbone {name!r}; choose one of {', '.join(sorted(BACKBONES))}") from None
