"""Creator studio in the browser: upload a clip with a progress bar, watch it processed, go live."""

from __future__ import annotations

import threading
import time

from etalage.core import jobs
from tests.factories import clip, make_video
from tests.web.conftest import LAPTOP, csrf_from, sign_in_http


def run_worker_until(db, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    """The background worker the server would run: transcoding happens here, as in production."""
    while not stop.is_set():
        jobs.drain(db)
        time.sleep(0.2)


def test_creator_uploads_a_clip_and_sees_it_ready(browse, factory, db):
    creator = factory.user("shopper", "creator", name="@cleo")
    b = browse(LAPTOP)
    b.sign_in(creator.email)
    page = b.page
    b.goto("/studio/upload")
    b.shot("studio-upload")
    page.locator("#f-file").set_input_files(str(clip()))
    page.locator("#f-caption").fill("My first clip #hello")
    page.locator("#upload-form button[type=submit]").click()
    page.wait_for_url("**/studio/videos/vid_*")
    assert page.locator("#state-badge").get_attribute("data-state") == "processing"
    b.shot("studio-processing")
    stop = threading.Event()
    worker = threading.Thread(target=run_worker_until, args=(db, stop), daemon=True)
    worker.start()
    try:
        page.wait_for_function(
            "() => document.getElementById('state-badge')?.dataset.state === 'published'", timeout=60_000
        )
    finally:
        stop.set()
        worker.join(10)
    b.shot("studio-ready")
    b.goto("/studio")
    assert page.locator("[data-state=published]").count() == 1
    assert "My first clip" in page.content()
    # and it is in the feed
    b.goto("/")
    assert page.locator(".clip").count() == 1
    assert not b.errors, b.errors


def test_upload_progress_bar_reports_parts(browse, factory):
    creator = factory.user("shopper", "creator")
    b = browse(LAPTOP)
    b.sign_in(creator.email)
    page = b.page
    b.goto("/studio/upload")
    page.locator("#f-file").set_input_files(str(clip()))
    with page.expect_request(lambda r: r.method == "PATCH" and "/api/v1/uploads/" in r.url) as patch:
        page.locator("#upload-form button[type=submit]").click()
    assert patch.value.headers["upload-offset"] == "0"
    page.wait_for_url("**/studio/videos/vid_*")
    assert page.evaluate("document.getElementById('processing-bar') !== null")


def test_studio_is_for_creators_and_their_own_videos(web, factory):
    shopper = factory.user("shopper")
    sign_in_http(web, shopper.email)
    assert web.get("/studio").status_code == 403
    web.cookies.clear()
    owner = factory.user("shopper", "creator")
    video = make_video(factory, owner, transcode=False)
    other = factory.user("shopper", "creator")
    sign_in_http(web, other.email)
    assert web.get(f"/studio/videos/{video}").status_code == 404
    token = csrf_from(web.get("/me").text)
    assert web.post(f"/studio/videos/{video}/delete", data={"csrf_token": token}).status_code == 404


def test_going_live_with_chat_and_a_pinned_product(browse, factory, db):
    shop = factory.verified_merchant(name="Atelier Zuid")
    item = factory.product(shop, title="Linen shirt")
    host = factory.user("shopper", "creator", name="@host")
    make_video(factory, host, caption="Live loop")
    h = browse(LAPTOP)
    h.sign_in(host.email)
    h.goto("/studio/live")
    h.page.locator("#f-title").fill("Summer linen live")
    h.page.locator("form.form button[type=submit]").click()
    h.page.wait_for_url("**/live/lrm_*")
    room_id = h.page.url.rsplit("/", 1)[1]
    from etalage.content import live

    with db.session() as s:
        live.pin(s, host.principal, room_id, item["product_id"])
    viewer = factory.user("shopper", name="Vera")
    v = browse()
    v.sign_in(viewer.email)
    v.goto(f"/live/{room_id}")
    page = v.page
    page.wait_for_function("() => !document.getElementById('chat-form').hidden")
    page.wait_for_function("() => document.getElementById('room-video').currentTime > 0.2")
    page.locator("#chat-text").fill("Does it come in blue?")
    page.locator("#chat-form button[type=submit]").click()
    page.locator("#chat li", has_text="Does it come in blue?").wait_for()
    h.page.locator("#chat li", has_text="Does it come in blue?").wait_for()  # the host sees it live
    assert not page.locator("#pinned").is_hidden()
    page.locator("#pinned-chip").click()
    page.locator("#product-sheet .product").wait_for()
    assert "Linen shirt" in page.locator("#product-sheet").inner_text()
    v.shot("live-room")
    assert not v.errors, v.errors


def test_tagging_a_product_found_in_the_catalog(browse, factory, db):
    shop = factory.verified_merchant(name="Atelier Zuid")
    item = factory.product(shop, title="Linen summer shirt")
    creator = factory.user("shopper", "creator")
    b = browse(LAPTOP)
    b.sign_in(creator.email)
    page = b.page
    b.goto("/studio/upload")
    page.locator("#f-product-search").fill("summer")
    page.locator("#product-results button").first.click()
    assert "Linen summer shirt" in page.locator("#tagged").inner_text()
    page.locator("#f-file").set_input_files(str(clip()))
    page.locator("#upload-form button[type=submit]").click()
    page.wait_for_url("**/studio/videos/vid_*")
    assert item["product_id"] in page.content()  # listed under "Tagged products"
