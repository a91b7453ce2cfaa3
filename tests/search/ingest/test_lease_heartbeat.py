"""The lease heartbeat (search/ingest/claims.py `lease_kept`) outlives a failed renewal."""

from __future__ import annotations

import time

from django.db import OperationalError

from search.ingest import claims


def test_a_failed_renewal_does_not_stop_the_heartbeat(monkeypatch):
    calls: list[float] = []

    def renew_failing_first(claim):  # type: ignore[no-untyped-def]
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly (simulated)")
        return set()

    monkeypatch.setattr(claims, "lease_renew", renew_failing_first)
    with claims.lease_kept(object(), every_s=0.01):  # type: ignore[arg-type]
        deadline = time.monotonic() + 5
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(calls) >= 3  # renewed again after the failure
