"""What counts as a "good match" depends on the served version: a catalog projection (search/versions.py)
spreads cosines out, so its scores run far lower than the raw backbone's for the same photo."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q

from search.versions import version_fit_id, version_projection, version_threshold


def good_match_score(version: str) -> float:
    if version_fit_id(version) is None:
        return settings.LOOKALIKE_INSIGHTS_GOOD_MATCH_SCORE
    try:
        projected = version_projection(version) is not None
    except Exception:  # the fit was deleted since: it was a projection (identity fits are rare)
        projected = True
    if projected:
        return version_threshold(
            version, field="good_match_score", setting="LOOKALIKE_INSIGHTS_PROJECTED_GOOD_MATCH_SCORE"
        )
    return settings.LOOKALIKE_INSIGHTS_GOOD_MATCH_SCORE


def good_match_q(versions: Iterable[str]) -> Q:
    """Events whose top score reaches the threshold of the version that served them."""
    matched = Q(pk__in=[])
    for version in set(versions):
        matched |= Q(model_version=version, top_score__gte=good_match_score(version))
    return matched
