"""Bad input of every kind is refused with a reason, and nothing already accepted is lost."""

from __future__ import annotations

import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update

from etalage.content import media, storage
from etalage.content.models import Upload, Video
from etalage.core import jobs
from etalage.db import utcnow
from tests.content.helpers import is_problem, upload_form
from tests.factories import clip

pytestmark = pytest.mark.skipif(
    not media.ffmpeg_available(), reason="ffmpeg/ffprobe not installed (dev.py test installs them)"
)
CHUNK = {"Content-Type": "application/offset+octet-stream"}


def _declare(api, actor, size: int, **extra):  # type: ignore[no-untyped-def]
    return api.post("/api/v1/uploads", json={"size": size, **extra}, headers=actor.headers)


def _raw(url: str, head: str, body: bytes = b"", *, close_after: bool = False) -> bytes:
    """Speak HTTP by hand: to declare a body we never send, or to hang up in the middle of one."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        if close_after:
            time.sleep(0.3)  # let the server read what was sent before the line drops
            return b""
        return sock.recv(65536)


def test_sizes_are_checked_before_a_byte_is_sent(api, factory, db, live_server):
    creator = factory.user("shopper", "creator")
    body = is_problem(_declare(api, creator, 10 * 1024**3, filename="huge.mp4"), 413)
    assert body["limit_bytes"] == 2 * 1024**3
    assert is_problem(_declare(api, creator, 0), 422)["reason"] == "empty"
    is_problem(_declare(api, creator, -5), 422)
    is_problem(
        api.post(
            "/api/v1/uploads",
            content=b"{not json",
            headers={**creator.headers, "Content-Type": "application/json"},
        ),
        400,
    )
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Upload)) == 0

    # A chunk that claims 100 MB is answered 413 from its headers alone.
    upload_id = _declare(api, creator, 5000).json()["id"]
    reply = _raw(
        live_server.url,
        (
            f"PATCH /api/v1/uploads/{upload_id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {creator.token}\r\n"
            "Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: 100000000\r\n"
        ),
    )
    assert reply.startswith(b"HTTP/1.1 413") and b"application/problem+json" in reply
    # So does a one-request upload that claims 10 GB.
    reply = _raw(
        live_server.url,
        (
            f"POST /api/v1/videos/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {creator.token}\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 10737418240\r\n"
        ),
    )
    assert reply.startswith(b"HTTP/1.1 413") and b"payload-too-large" in reply


def test_offsets_leases_and_overruns(api, factory, db):
    creator = factory.user("shopper", "creator")
    other = factory.user("shopper", "creator")
    upload_id = _declare(api, creator, 10).json()["id"]
    url = f"/api/v1/uploads/{upload_id}"
    ok = api.patch(url, content=b"12345", headers={**creator.headers, **CHUNK, "Upload-Offset": "0"})
    assert ok.status_code == 204 and ok.headers["Upload-Offset"] == "5"
    wrong = api.patch(url, content=b"67890", headers={**creator.headers, **CHUNK, "Upload-Offset": "2"})
    assert is_problem(wrong, 409)["offset"] == 5 and wrong.headers["Upload-Offset"] == "5"
    over = api.patch(url, content=b"6789012345", headers={**creator.headers, **CHUNK, "Upload-Offset": "5"})
    assert "declared size" in is_problem(over, 413)["detail"]
    is_problem(
        api.patch(
            url, content=b"x", headers={**creator.headers, "Content-Type": "text/plain", "Upload-Offset": "5"}
        ),
        415,
    )
    is_problem(api.patch(url, content=b"x", headers={**creator.headers, **CHUNK}), 400)  # no offset
    assert (
        api.head(url, headers=creator.headers).headers["Upload-Offset"] == "5"
    )  # nothing lost, nothing added
    assert storage.absolute(storage.original_relpath(upload_id)).stat().st_size == 5
    # Someone else's upload does not exist for them.
    for method in ("GET", "HEAD", "DELETE"):
        assert api.request(method, url, headers=other.headers).status_code == 404
    assert (
        api.patch(url, content=b"x", headers={**other.headers, **CHUNK, "Upload-Offset": "5"}).status_code
        == 404
    )
    # Not complete yet: no video from it.
    is_problem(api.post("/api/v1/videos", json={"upload_id": upload_id}, headers=creator.headers), 409)
    # Aborted: gone, with its bytes.
    assert api.delete(url, headers=creator.headers).status_code == 204
    is_problem(
        api.patch(url, content=b"67890", headers={**creator.headers, **CHUNK, "Upload-Offset": "5"}), 410
    )
    assert not storage.absolute(storage.original_relpath(upload_id)).exists()


def test_a_dropped_connection_keeps_what_arrived_and_the_upload_resumes(api, factory, db, live_server):
    creator = factory.user("shopper", "creator")
    data = clip().read_bytes()
    upload_id = _declare(api, creator, len(data)).json()["id"]
    half = len(data) // 2
    _raw(
        live_server.url,
        (
            f"PATCH /api/v1/uploads/{upload_id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {creator.token}\r\n"
            f"Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {len(data)}\r\n"
        ),
        data[:half],
        close_after=True,
    )
    deadline = time.monotonic() + 10
    while True:  # the server notices the hang-up, records what it kept and gives the lease back
        head = api.head(f"/api/v1/uploads/{upload_id}", headers=creator.headers)
        with db.read() as s:
            busy = s.scalar(select(Upload.busy_until).where(Upload.id == upload_id))
        if busy is None and int(head.headers["Upload-Offset"]) > 0:
            break
        assert time.monotonic() < deadline, "the interrupted chunk was never recorded"
        time.sleep(0.05)
    kept = int(head.headers["Upload-Offset"])
    assert 0 < kept <= half
    rest = api.patch(
        f"/api/v1/uploads/{upload_id}",
        content=data[kept:],
        headers={**creator.headers, **CHUNK, "Upload-Offset": str(kept)},
    )
    assert rest.status_code == 204 and rest.headers["Upload-Offset"] == str(len(data))
    assert storage.absolute(storage.original_relpath(upload_id)).read_bytes() == data
    resp = api.post("/api/v1/videos", json={"upload_id": upload_id}, headers=creator.headers)
    assert resp.status_code == 202, resp.text
    jobs.drain(db)
    assert api.get(f"/api/v1/videos/{resp.json()['id']}").json()["state"] == "published"
    is_problem(
        api.post("/api/v1/videos", json={"upload_id": upload_id}, headers=creator.headers), 409
    )  # used once


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        ("text", "not-a-video"),
        ("empty", "empty"),
        ("ffv1", "unsupported-codec"),
        ("short", "too-short"),
        ("image", "unsupported-container"),
    ],
)
def test_files_that_are_not_acceptable_videos_are_refused_with_the_reason(
    api, factory, db, tmp_path, make, reason
):
    creator = factory.user("shopper", "creator")
    if make == "text":
        path = tmp_path / "holiday.mp4"
        path.write_text("This is a text file wearing a video's name.\n" * 20)
    elif make == "empty":
        path = tmp_path / "empty.mp4"
        path.write_bytes(b"")
    elif make == "ffv1":
        path = clip(seconds=1.5, size=(320, 240), vcodec="ffv1", audio=False, file_name="lossless.mkv")
    elif make == "short":
        path = clip(seconds=0.4, size=(320, 240))
    else:
        from PIL import Image

        path = tmp_path / "photo.mp4"
        Image.new("RGB", (400, 300), "red").save(path, format="PNG")
    resp = upload_form(api, creator, path, caption="nope")
    body = is_problem(resp, 422)
    assert body["reason"] == reason, body
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Video)) == 0
        states = list(s.scalars(select(Upload.state)))
    assert states in ([], ["rejected"])  # an empty file never becomes an upload


def test_multipart_form_mistakes_are_4xx(api, factory):
    creator = factory.user("shopper", "creator")
    is_problem(api.post("/api/v1/videos/upload", json={"x": 1}, headers=creator.headers), 415)
    is_problem(
        api.post(
            "/api/v1/videos/upload",
            data={"metadata": "{}"},
            files={"other": ("a", b"b")},
            headers=creator.headers,
        ),
        422,
    )
    with clip().open("rb") as fh:
        bad_meta = api.post(
            "/api/v1/videos/upload",
            files={"file": ("c.mp4", fh, "video/mp4")},
            data={"metadata": '{"language": "klingon"}'},
            headers=creator.headers,
        )
    assert is_problem(bad_meta, 422)["errors"][0]["loc"] == "language"
    with clip().open("rb") as fh:
        not_json = api.post(
            "/api/v1/videos/upload",
            files={"file": ("c.mp4", fh, "video/mp4")},
            data={"metadata": "{oops"},
            headers=creator.headers,
        )
    is_problem(not_json, 422)
    good = upload_form(api, creator, clip(), caption="ok #fine", language="nl", region="BE", publish=False)
    assert good.status_code == 202 and good.json()["language"] == "nl"


def test_one_client_flooding_uploads_is_throttled(api, factory, db):
    creator = factory.user("shopper", "creator")
    codes = [_declare(api, creator, 1000).status_code for _ in range(11)]
    assert codes == [201] * 10 + [409]  # at most 10 unfinished uploads each
    with db.session() as s:
        s.execute(update(Upload).where(Upload.user_id == creator.id).values(state="aborted"))
    codes = [_declare(api, creator, 1000).status_code for _ in range(60)]
    assert 429 in codes
    limited = _declare(api, creator, 1000)
    assert is_problem(limited, 429) and int(limited.headers["Retry-After"]) >= 1


def test_unfinished_uploads_expire_with_their_bytes(api, factory, db):
    creator = factory.user("shopper", "creator")
    upload_id = _declare(api, creator, 100).json()["id"]
    api.patch(
        f"/api/v1/uploads/{upload_id}",
        content=b"x" * 40,
        headers={**creator.headers, **CHUNK, "Upload-Offset": "0"},
    )
    path = storage.absolute(storage.original_relpath(upload_id))
    assert path.exists()
    with db.session() as s:
        s.execute(update(Upload).values(expires_at=utcnow() - timedelta(minutes=1)))
        from etalage.core.models import Job

        s.execute(update(Job).values(run_at=utcnow()))
    jobs.drain(db)
    assert not path.exists()
    is_problem(
        api.patch(
            f"/api/v1/uploads/{upload_id}",
            content=b"y",
            headers={**creator.headers, **CHUNK, "Upload-Offset": "40"},
        ),
        410,
    )
