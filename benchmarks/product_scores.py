"""How a product's score is made from its images' cosines to the query, on the held-out splits (NumPy on
cached embeddings; identity and the default fit, whitening + head).

    .venv/bin/python -m benchmarks.product_scores [--seeds 0,1,2] [--splits all,three,iconic,unseen,uneven]
        [--fits identity,head] [--rules max,second0.25,...] [--fetch 8] [--cache PATH]

As the search does, only the query's nearest images are looked at: `--fetch` per product wanted (k = 10),
doubled until 10 distinct products are among them (`--fetch 0`: every catalog image). A product's score is
made from its images among those hits (best first: s1, s2, ...); `floor` is the last hit's score (what an
image not among the hits scores at most). Rules:
  max           s1 (served)
  secondL       s1 + L * (s2, else the floor), e.g. second0.25
  selfsecondL   as secondL, but a product with a single catalog photo counts s1 twice (no penalty for one photo)
  top2mean      (s1 + s2) / 2 where the product has 2 or more catalog photos (s2 missing: the floor), else s1
  lseT          T * log(sum of exp(s / T)) over the product's hits, e.g. lse0.05
Split `uneven` (besides retrieval_splits'): every product keeps a random 1 to all of `all`'s catalog photos
(seeded), so photo counts per product differ widely; fitted and scored as `all`.
"""

from __future__ import annotations

import json
import pickle
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from benchmarks._setup import arguments_with_dataset
from benchmarks.embedding_cache import embeddings_cache
from benchmarks.retrieval_splits import Photos, Split, splits
from search.head import head_train
from search.projection import Projection, project, projection_fit

K = 10
METRICS = ("P@1", "top-5", "coarse P@1")


def splits_with_uneven(photos: Photos, *, seed: int) -> Iterator[Split]:
    for split in splits(photos, seed=seed):
        yield split
        if split.name == "all":
            rng = np.random.default_rng(1000 + seed)
            kept = []
            for product in np.unique(photos.product[split.catalog]):
                rows = rng.permutation(split.catalog[photos.product[split.catalog] == product])
                kept.extend(rows[: rng.integers(1, len(rows) + 1)])
            catalog = np.sort(np.array(kept))
            yield Split("uneven", catalog, split.queries, catalog, split.scored)


def default_fit(photos: Photos, split: Split) -> Projection | None:
    """The served default (whitening + head) on the split's fit rows; None where it would be the identity."""
    vectors, products = photos.plain[split.fit], photos.product[split.fit]
    base = projection_fit(vectors, products=products, categories=photos.category[split.fit])
    return None if base is None else head_train(vectors, products, base=base)


def hits_of(scores: np.ndarray, image_products: np.ndarray, fetch: int) -> tuple[np.ndarray, int]:
    """One query's hits (catalog columns, best first) as the search fetches them."""
    order = np.argsort(-scores, kind="stable")
    if fetch == 0:
        return order, len(order)
    depth = K * fetch
    while depth < len(order) and len(np.unique(image_products[order[:depth]])) < K:
        depth *= 2
    return order[:depth], depth


def rule_scores(rule: str, per_product: dict[int, np.ndarray], floor: float, photo_count: np.ndarray):
    """{product: score} under `rule` from each product's hit scores (best first)."""
    out = {}
    for product, s in per_product.items():
        second = s[1] if len(s) > 1 else floor
        if rule == "max":
            out[product] = s[0]
        elif rule.startswith("selfsecond"):
            lam = float(rule.removeprefix("selfsecond"))
            out[product] = s[0] + lam * (s[0] if photo_count[product] == 1 else second)
        elif rule.startswith("second"):
            out[product] = s[0] + float(rule.removeprefix("second")) * second
        elif rule == "top2mean":
            out[product] = (s[0] + second) / 2 if photo_count[product] > 1 else s[0]
        elif rule.startswith("lse"):
            t = float(rule.removeprefix("lse"))
            out[product] = s[0] + t * np.log(np.exp((s - s[0]) / t).sum())
        else:
            raise ValueError(rule)
    return out


def scored(photos: Photos, split: Split, projection: Projection | None, rules: list[str], fetch: int):
    catalog = project(photos.plain[split.catalog], projection)
    queries = project(photos.plain[split.scored], projection)
    image_products = photos.product[split.catalog]
    photo_count = np.bincount(image_products, minlength=int(photos.product.max()) + 1)
    category_of = np.zeros(len(photo_count), dtype=int)
    category_of[photos.product] = photos.category
    truth, truth_category = photos.product[split.scored], photos.category[split.scored]
    sums = {rule: np.zeros(len(METRICS)) for rule in rules}
    depths = []
    for q, scores in enumerate(queries @ catalog.T):
        hit_columns, depth = hits_of(scores, image_products, fetch)
        depths.append(depth)
        per_product: dict[int, list[float]] = {}
        for column in hit_columns:
            per_product.setdefault(int(image_products[column]), []).append(float(scores[column]))
        arrays = {p: np.array(s) for p, s in per_product.items()}
        floor = float(scores[hit_columns[-1]])
        for rule in rules:
            by_product = rule_scores(rule, arrays, floor, photo_count)
            ranked = sorted(by_product, key=lambda p: (-by_product[p], p))
            sums[rule] += [
                ranked[0] == truth[q],
                truth[q] in ranked[:5],
                category_of[ranked[0]] == truth_category[q],
            ]
    return {
        rule: dict(zip(METRICS, (total / len(queries)).tolist(), strict=True)) for rule, total in sums.items()
    }, (float(np.mean(depths)))


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--cache", type=Path, help="an embedding cache file (default: the dataset's)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--splits", default="all,three,iconic,unseen,uneven")
    parser.add_argument("--fits", default="identity,head")
    parser.add_argument(
        "--rules", default="max,second0.1,second0.25,second0.5,selfsecond0.25,top2mean,lse0.02,lse0.05,lse0.1"
    )
    parser.add_argument("--fetch", type=int, default=8)
    parser.add_argument("--out", type=Path, help="append one JSON line per seed, split and fit")
    parser.add_argument("--fit-cache", type=Path, help="a folder keeping the fits between runs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cache = args.cache or embeddings_cache(args.dataset, args.backbone)
    photos = Photos.load(str(cache))
    rules, wanted = args.rules.split(","), args.splits.split(",")
    for seed in (int(s) for s in args.seeds.split(",")):
        for split in splits_with_uneven(photos, seed=seed):
            if split.name not in wanted:
                continue
            for fit in args.fits.split(","):
                started = time.perf_counter()
                projection = None
                if fit == "head":
                    stored = args.fit_cache and args.fit_cache / f"{Path(cache).stem}-{seed}-{split.name}.pkl"
                    if stored and stored.exists():
                        projection = pickle.loads(stored.read_bytes())
                    else:
                        projection = default_fit(photos, split)
                        if stored:
                            stored.parent.mkdir(parents=True, exist_ok=True)
                            stored.write_bytes(pickle.dumps(projection))
                results, depth = scored(photos, split, projection, rules, args.fetch)
                for rule, row in results.items():
                    cells = " | ".join(f"{row[m]:.3f}" for m in METRICS)
                    print(f"| {split.name} | {fit} | {seed} | {rule} | {cells} |", flush=True)
                    if args.out:
                        with args.out.open("a") as handle:
                            line = {"seed": seed, "split": split.name, "fit": fit, "rule": rule, **row}
                            handle.write(
                                json.dumps({**line, "fetch": args.fetch, "cache": str(cache)}) + "\n"
                            )
                print(
                    f"  ({split.name} {fit} seed {seed}: {time.perf_counter() - started:.1f} s, "
                    f"mean hits {depth:.0f})",
                    flush=True,
                )


if __name__ == "__main__":
    main()
