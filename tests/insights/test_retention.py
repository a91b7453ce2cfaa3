from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from insights.models import Interface, ProductWeek, ResultClick, SearchEvent, SearchThumbnail, week_start
from insights.retention import events_expire
from insights.services import click_record, search_event_record
from tests.insights.conftest import matches_of, shopper_request

pytestmark = pytest.mark.django_db


def _searched(products, *, days_ago: int) -> int:
    event_id = search_event_record(
        request=shopper_request("00000000000000aa"),
        interface=Interface.PAGE,
        matches=matches_of(products[:2], [0.9, 0.8]),
    )
    assert click_record(
        event_id=event_id,
        product_id=products[0].pk,
        rank=1,
        session_id="00000000000000aa",
        rate_key=str(event_id),
    )
    then = timezone.now() - timedelta(days=days_ago)
    SearchEvent.objects.filter(pk=event_id).update(created_at=then)
    ProductWeek.objects.filter(week=week_start(timezone.now().date())).update(week=week_start(then.date()))
    return event_id


def test_expire_deletes_old_events_with_their_clicks_and_counts(products, capsys):
    old = _searched(products, days_ago=100)
    recent = _searched(products, days_ago=3)
    call_command("insights_expire")  # default: LOOKALIKE_INSIGHTS_RETENTION_DAYS = 90
    assert list(SearchEvent.objects.values_list("pk", flat=True)) == [recent]
    assert list(ResultClick.objects.values_list("event_id", flat=True)) == [recent]
    assert "deleted 1 events" in capsys.readouterr().out
    recent_week = week_start((timezone.now() - timedelta(days=3)).date())
    assert set(ProductWeek.objects.values_list("week", flat=True)) == {recent_week}
    call_command("insights_expire", "--days", "1")
    assert not SearchEvent.objects.exists()
    assert old != recent


def test_a_weeks_counts_go_once_its_last_day_is_before_the_cutoff(products):
    _searched(products, days_ago=30)
    week = ProductWeek.objects.values_list("week", flat=True).get(product_id=products[0].pk)
    today = timezone.now().date()
    # Cutoff on the week's last day: kept. The day after: gone.
    assert events_expire(retention_days=(today - week).days - 6).product_weeks == 0
    assert events_expire(retention_days=(today - week).days - 7).product_weeks == 2
    assert not ProductWeek.objects.exists()


def test_thumbnails_expire_after_their_own_days(products, settings):
    settings.LOOKALIKE_INSIGHTS_THUMBNAIL_DAYS = 2
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import jpeg_bytes

    event_id = search_event_record(
        request=shopper_request(),
        interface=Interface.PAGE,
        matches=matches_of(products[:1], [0.4]),
        photo=SimpleUploadedFile("p.jpg", jpeg_bytes()),
    )
    call_command("insights_expire")
    assert SearchThumbnail.objects.filter(event_id=event_id).exists()
    SearchThumbnail.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("insights_expire")
    assert not SearchThumbnail.objects.exists() and SearchEvent.objects.filter(pk=event_id).exists()
