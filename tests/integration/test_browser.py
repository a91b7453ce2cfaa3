"""End to end in a real browser: Debian's Chromium driven by Playwright against pytest-django's live server.

The live server needs committed data, so these tests use a transactional database, which Django flushes
after each test. The session's demo catalog is snapshotted once and restored before each test and after
the module, with the same primary keys, so the Neo4j projection stays valid for the other tests.
Screenshots of the main pages land in var/screenshots/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright

from catalog.models import Product, SyncStatus
from search.similarity import product_similar_list
from tests.db_snapshot import db_restore, db_snapshot

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = Path(os.environ.get("LOOKALIKE_CHROMIUM", "/usr/bin/chromium"))
# No GPU, no sandbox (containers), and nothing that phones home: the test network is closed.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
ICONIC = "iconic-images-and-descriptions/Fruit"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Browser:
    if not CHROMIUM.exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: apt-get install chromium (or set LOOKALIKE_CHROMIUM)")
    # Playwright's sync API keeps an event loop in this thread; Django would refuse ORM calls from it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)  # a cold embedding on a busy 2-core machine takes a while
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def catalog_snapshot(demo_catalog, django_db_blocker) -> str:
    snapshot = db_snapshot(django_db_blocker)
    yield snapshot
    db_restore(snapshot, django_db_blocker)  # for the tests after this module


@pytest.fixture
def shop(catalog_snapshot, transactional_db, live_server, django_db_blocker):
    db_restore(catalog_snapshot, django_db_blocker)
    return live_server


def _side_by_side(tmp_path: Path, left: Path, right: Path) -> Path:
    a, b = Image.open(left).convert("RGB"), Image.open(right).convert("RGB")
    canvas = Image.new("RGB", (a.width + b.width, max(a.height, b.height)), "white")
    canvas.paste(a, (0, 0))
    canvas.paste(b, (a.width, 0))
    path = tmp_path / "two-fruits.jpg"
    canvas.save(path, "JPEG", quality=90)
    return path


def test_product_page_shows_its_similar_items(shop, page: Page):
    product = Product.objects.get(name="Granny Smith")
    expected = [m.product.name for m in product_similar_list(product_id=product.pk)]
    page.goto(shop.url + reverse("catalog:product-list"))
    page.screenshot(path=SCREENSHOTS / "product-list.png", full_page=True)
    page.get_by_label("Search by name").fill("granny")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Granny Smith").first.click()

    expect(page.get_by_role("heading", name="Granny Smith")).to_be_visible()
    strip = page.locator("#similar-items .strip .card .name")
    expect(strip).to_have_text(expected)
    graph = page.locator(".neighbourhood svg")
    expect(graph.locator("a")).to_have_count(len(expected))
    page.screenshot(path=SCREENSHOTS / "product-detail.png", full_page=True)

    graph.locator("a").first.click()  # the neighbourhood's nodes are links to the neighbours
    expect(page.get_by_role("heading", name=expected[0])).to_be_visible()
    page.set_viewport_size(PHONE)
    page.screenshot(path=SCREENSHOTS / "product-detail-phone.png", full_page=True)


def test_photo_search_finds_the_photographed_product_first(
    shop, page: Page, grocery_dir: Path, tmp_path: Path
):
    page.goto(shop.url + reverse("search:photo-search"))
    page.locator("input[type=file]").set_input_files(grocery_dir / ICONIC / "Pineapple/Pineapple_Iconic.jpg")
    expect(page.locator("#preview-image")).to_be_visible()  # the script's preview
    page.get_by_role("button", name="Find similar products").click()
    expect(page.locator("#results .card .name").first).to_have_text("Pineapple")
    page.screenshot(path=SCREENSHOTS / "photo-search.png", full_page=True)


def test_photo_search_searches_only_the_region_dragged_on_the_preview(
    shop, page: Page, grocery_dir: Path, tmp_path: Path
):
    photo = _side_by_side(
        tmp_path,
        grocery_dir / ICONIC / "Pineapple/Pineapple_Iconic.jpg",
        grocery_dir / ICONIC / "Banana/Banana_Iconic.jpg",
    )
    page.goto(shop.url + reverse("search:photo-search"))
    page.locator("input[type=file]").set_input_files(photo)
    preview = page.locator("#preview-image")
    expect(preview).to_be_visible()
    page.wait_for_function("document.getElementById('preview-image').naturalWidth > 0")
    box = preview.bounding_box()
    # Drag over the right half (the banana).
    page.mouse.move(box["x"] + box["width"] * 0.52, box["y"] + 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.5, steps=5)
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2, steps=5)
    page.mouse.up()
    assert int(page.locator("[name=crop_x]").input_value()) >= Image.open(photo).width // 2
    page.screenshot(path=SCREENSHOTS / "photo-search-crop.png")
    page.get_by_role("button", name="Find similar products").click()
    expect(page.locator("#results .card .name").first).to_have_text("Banana")

    page.locator("#results .more").first.click()  # "more like this" from a result
    expect(page.get_by_role("heading", name="More like Banana")).to_be_visible()


def test_staff_add_a_product_with_a_photo_and_find_it_by_search(
    shop, page: Page, grocery_dir: Path, tmp_path: Path, graph_cleanup
):
    get_user_model().objects.create_superuser("staff", "staff@example.com", "browser-test-password")
    # A resized copy of one of Granny Smith's photos: synced, findable, and flagged as a near-duplicate.
    photo = tmp_path / "green-apple.jpg"
    original = Image.open(grocery_dir / "train/Fruit/Apple/Granny-Smith/Granny-Smith_001.jpg").convert("RGB")
    original.resize((original.width * 7 // 10, original.height * 7 // 10)).save(photo, "JPEG", quality=75)

    page.goto(shop.url + reverse("admin:index"))
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("browser-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#graph-health")).to_contain_text("up")
    page.screenshot(path=SCREENSHOTS / "admin-index.png", full_page=True)

    page.goto(shop.url + reverse("admin:catalog_product_add"))
    page.locator("#id_name").fill("Browser apple")
    page.locator("#id_price").fill("3.20")
    page.locator("#id_category").select_option(label="Apple")
    page.locator("#id_images-0-image").set_input_files(photo)
    page.get_by_role("button", name="Save and continue editing").click()
    messages = page.locator(".messagelist")
    expect(messages).to_contain_text("was added successfully")
    expect(messages.locator(".warning")).to_contain_text("looks like a photo of another product")
    expect(messages.get_by_role("link", name="Granny Smith")).to_have_attribute(
        "href", reverse("admin:catalog_product_change", args=[Product.objects.get(name="Granny Smith").pk])
    )

    product = Product.objects.get(slug="browser-apple")  # made from the name by the admin's script
    graph_cleanup.append(product.pk)
    assert product.images.get().sync_status == SyncStatus.SYNCED
    expect(page.locator(".field-sync_status").first).to_contain_text("Synced")
    page.screenshot(path=SCREENSHOTS / "admin-product-change.png", full_page=True)

    page.goto(shop.url + reverse("search:photo-search"))
    page.locator("input[type=file]").set_input_files(photo)
    page.get_by_role("button", name="Find similar products").click()
    expect(page.locator("#results .card .name").first).to_have_text("Browser apple")
