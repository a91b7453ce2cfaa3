"""Clicks improve similar-items strips: a replayed click log on the demo catalog (insights/boost.py).

    LOOKALIKE_NEO4J_INSTANCE=bench .venv/bin/python -m benchmarks.click_boost_replay [--dataset DIR] [--sessions 3000]

The demo catalog is imported into a temporary SQLite database and the bench Neo4j (cleared). A simulated
shopper opens product pages (uniformly at random) and looks down the similar-items strip: she examines rank
r with probability 0.6 * 0.9^(r-1) (a position bias the boost does not assume: it models 1 / r) and opens an
examined product with probability 0.6 if it is one of the "known" products she prefers (a seeded 25% of the
catalog), 0.1 otherwise. The log is made with the plain ranking (the boost off), through the real recording
and click services. 10% of the products are "new": absent from the strips while the log is made, present
afterwards, so they have no clicks at all.

At checkpoints of the log, every product's strip is read through the real `product_similar_list`, plain
(boost off) and boosted (boost on), and compared under the same shopper model: expected opens per strip
view, the mean rank of known products, the mean rank of the new products and how many strips show them in
the top 4. Prints Markdown tables.
"""

from __future__ import annotations

import random
import secrets

import numpy as np

from benchmarks._setup import arguments_with_dataset, database_migrate, demo_import, django_temp

django_temp("click-boost")

from django.core.cache import cache  # noqa: E402
from django.test import RequestFactory, override_settings  # noqa: E402

from catalog.models import Product  # noqa: E402
from insights.middleware import AnonymousSession  # noqa: E402
from insights.models import ResultClick  # noqa: E402
from insights.services import click_record, search_event_record  # noqa: E402
from search.similarity import MatchList, product_similar_list  # noqa: E402

KNOWN_SHARE = 0.25
NEW_SHARE = 0.10
ATTRACT_KNOWN, ATTRACT_OTHER = 0.6, 0.1
CHECKPOINTS = (100, 300, 1000, 3000, 10000)


def examined(rank: int) -> float:
    return 0.6 * 0.9 ** (rank - 1)


def strips_read(product_ids: list[int], *, boost: str) -> dict[int, list[int]]:
    with override_settings(LOOKALIKE_CLICK_BOOST=boost):
        cache.clear()
        return {pid: [m.product.pk for m in product_similar_list(product_id=pid)] for pid in product_ids}


def strip_quality(strips: dict[int, list[int]], known: set[int], new: set[int]) -> dict[str, float]:
    opens, known_ranks, new_ranks, new_top4 = [], [], [], 0
    for strip in strips.values():
        opens.append(
            sum(
                examined(r) * (ATTRACT_KNOWN if p in known else ATTRACT_OTHER) for r, p in enumerate(strip, 1)
            )
        )
        known_ranks += [r for r, p in enumerate(strip, 1) if p in known]
        new_ranks += [r for r, p in enumerate(strip, 1) if p in new]
        new_top4 += sum(p in new for p in strip[:4])
    return {
        "expected opens per strip": float(np.mean(opens)),
        "mean rank of known products": float(np.mean(known_ranks)),
        "mean rank of new products": float(np.mean(new_ranks)),
        "new products in a top 4": float(new_top4),
    }


def session_replay(source: int, strip: list, *, known: set[int], rng: random.Random) -> int:
    sid = secrets.token_hex(8)
    request = RequestFactory().get("/")
    request.insights_session = AnonymousSession(sid)
    event_id = search_event_record(request=request, interface="page", matches=strip, source_product_id=source)
    opened = 0
    for rank, match in enumerate(strip, 1):
        attract = ATTRACT_KNOWN if match.product.pk in known else ATTRACT_OTHER
        if rng.random() < examined(rank) and rng.random() < attract:
            opened += click_record(
                event_id=event_id, product_id=match.product.pk, rank=rank, session_id=sid, rate_key=sid
            )
    return opened


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--sessions", type=int, default=CHECKPOINTS[-1])
    args = parser.parse_args()
    database_migrate()
    demo_import(args.dataset)
    rng = random.Random(14)
    ids = sorted(Product.objects.values_list("pk", flat=True))
    known = set(rng.sample(ids, round(len(ids) * KNOWN_SHARE)))
    new = set(rng.sample(sorted(set(ids) - known), round(len(ids) * NEW_SHARE)))
    with override_settings(LOOKALIKE_INSIGHTS_WRITER="inline", LOOKALIKE_INSIGHTS_CLICKS_PER_MINUTE=10**9):
        plain = {}
        with override_settings(LOOKALIKE_CLICK_BOOST="off"):
            for pid in ids:
                full = product_similar_list(product_id=pid)
                # While the log is made, the new products do not exist yet.
                plain[pid] = MatchList([m for m in full if m.product.pk not in new], model=full.model)
        sources = [pid for pid in ids if pid not in new and plain[pid]]
        print(f"{len(ids)} products, {len(known)} known, {len(new)} new; {len(sources)} strips in the log\n")
        print(
            "| sessions | clicks | boost (auto) | ranking | expected opens / strip | known mean rank "
            "| new mean rank | new in a top 4 |"
        )
        print("|---|---|---|---|---|---|---|---|")
        done = 0
        for checkpoint in [c for c in CHECKPOINTS if c <= args.sessions]:
            while done < checkpoint:
                source = rng.choice(sources)
                session_replay(source, plain[source], known=known, rng=rng)
                done += 1
            clicks = ResultClick.objects.count()
            cache.clear()
            from insights.boost import click_boost_active

            auto = click_boost_active()
            for name, boost in (("plain", "off"), ("boosted", "on")):
                q = strip_quality(strips_read(ids, boost=boost), known, new)
                print(
                    f"| {done} | {clicks} | {'on' if auto else 'off'} | {name} | {q['expected opens per strip']:.3f} "
                    f"| {q['mean rank of known products']:.2f} | {q['mean rank of new products']:.2f} "
                    f"| {q['new products in a top 4']:.0f} |"
                )


if __name__ == "__main__":
    main()
