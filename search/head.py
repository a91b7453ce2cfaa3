"""A linear head trained on the catalog's own photos (metric learning), on top of the whitening.

The whitening (search/projection.py) is closed-form: it only flattens the within-product spread. The head is
a square matrix W after it, trained so each photo lies nearest its own product's proxy (a normalised-softmax
loss over product ids) and pulled towards the identity so it stays close to the whitening. Since the result
is still a mean and one matrix (the whitening's times W), it is served, versioned and indexed exactly as the
whitening is. Settings were chosen on a tuning seed that is never scored (benchmarks/head_training.py,
docs/benchmarks.md "Catalog projection").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from search.projection import Projection, normalised


@dataclass(frozen=True)
class HeadSettings:
    epochs: int = 10
    learning_rate: float = 3e-4
    temperature: float = 0.05
    decay: float = 1e-4  # weight of W's squared distance from the identity (sum over entries)
    batch: int = 256


def head_train(
    vectors: np.ndarray,
    labels: np.ndarray,
    *,
    base: Projection,
    settings: HeadSettings = HeadSettings(),
    seed: int = 0,
) -> Projection:
    """`base` followed by a matrix trained so that each vector is nearest its label's proxy."""
    from search.embeddings import torch  # through search.embeddings, which sets OMP_WAIT_POLICY first

    # normalised(z W) only depends on z's direction, so the head trains on unit inputs.
    inputs = torch.from_numpy(normalised((np.asarray(vectors, dtype=np.float32) - base.mean) @ base.matrix))
    keys, targets_np = np.unique(np.asarray(labels), return_inverse=True)
    targets = torch.from_numpy(targets_np.astype(np.int64))
    generator = torch.Generator().manual_seed(seed)
    identity = torch.eye(inputs.shape[1])
    weight = torch.nn.Parameter(identity.clone())
    centres = torch.zeros(len(keys), inputs.shape[1]).index_add_(0, targets, inputs)
    proxies = torch.nn.Parameter(torch.nn.functional.normalize(centres, dim=1))
    optimiser = torch.optim.Adam(
        [
            {"params": [weight], "lr": settings.learning_rate},
            # The proxies start at the products' centres and must move faster than the metric.
            {"params": [proxies], "lr": settings.learning_rate * 10},
        ]
    )
    for _ in range(settings.epochs):
        order = torch.randperm(len(inputs), generator=generator)
        for start in range(0, len(order), settings.batch):
            batch = order[start : start + settings.batch]
            embedded = torch.nn.functional.normalize(inputs[batch] @ weight, dim=1)
            logits = embedded @ torch.nn.functional.normalize(proxies, dim=1).T / settings.temperature
            loss = torch.nn.functional.cross_entropy(logits, targets[batch])
            loss = loss + settings.decay * ((weight - identity) ** 2).sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    matrix = base.matrix @ weight.detach().numpy()
    return replace(base, matrix=matrix.astype(np.float32))
