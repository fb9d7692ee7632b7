"""What checkout relies on from the HTTP layer: a kept-alive connection is asked to reconnect now and then,
so clients that connected in a burst spread over the server's worker processes."""

from __future__ import annotations


def test_every_hundredth_answer_on_a_connection_closes_it(api, settings):
    limit = settings.http_keepalive_requests
    assert limit == 100
    closing = [i for i in range(1, 2 * limit + 1) if api.get("/api/v1/regions").headers.get("connection") == "close"]
    assert closing == [limit, 2 * limit]
