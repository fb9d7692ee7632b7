"""``etalage events …`` as an operator runs it: status, replay, tail, trim."""

from __future__ import annotations

import time

import orjson

from tests.conftest import run_cli


def test_status_replay_tail_and_trim(tmp_path, scratch_database_url):
    from etalage.events.log.embedded import EmbeddedEventLog

    env = {"ETALAGE_DATA_DIR": str(tmp_path / "data"), "ETALAGE_DATABASE_URL": scratch_database_url}
    env["ETALAGE_NATS_URL"] = ""
    assert run_cli("db", "upgrade", env=env).returncode == 0
    log = EmbeddedEventLog(tmp_path / "data" / "events" / "log.db")
    old = int(time.time() * 1000) - 10 * 86_400_000
    events = [
        {"type": "impression", "event_id": f"e{i}", "user": "psn_A", "client_ts": old, "ts": old, "recv": old,
         "video_id": "vid_01JD0000000000000000000000"}
        for i in range(5)
    ]  # fmt: skip
    for event in events:  # five batches: retention deletes whole batches, and the newest one stays
        log.append([event])
    log.close()

    replay = run_cli("events", "replay", "engagement", env=env)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "5 events applied" in replay.stdout
    status = run_cli("events", "status", env=env)
    assert "newest offset 5" in status.stdout and "engagement" in status.stdout
    tail = run_cli("events", "tail", "-n", "2", env=env)
    lines = [orjson.loads(line) for line in tail.stdout.splitlines()]
    assert [e["offset"] for e in lines] == [4, 5] and lines[0]["user"] == "psn_A"
    assert run_cli("events", "replay", "nope", env=env).returncode == 2
    trim = run_cli("events", "trim", "--keep-days", "0", env=env)  # everything appended before now
    assert "Deleted 4 events" in trim.stdout  # the newest stays, so offsets keep growing
    log = EmbeddedEventLog(tmp_path / "data" / "events" / "log.db")
    assert [e.offset for e in log.read(1)] == [5]
    assert log.append([dict(events[0], event_id="new", client_ts=old + 1)])[0].offset == 6
    log.close()
