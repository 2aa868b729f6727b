"""`GET /health` reports the database, Redis and the job queue's depth separately, and answers 503
when a dependency the deployment uses does not answer (the container and proxy readiness check)."""

from __future__ import annotations

from typing import Any


async def test_health_reports_database_redis_and_queue_depth(api: Any, settings_override: Any) -> None:
    import uuid

    from redis.asyncio import Redis

    from core.settings import get_settings

    # A queue of its own, holding three waiting jobs as arq keeps them (a sorted set by due time).
    queue = f"{get_settings().job_queue}:health:{uuid.uuid4().hex[:8]}"
    settings_override(job_queue=queue)
    client = Redis.from_url(get_settings().redis_url)
    try:
        r = await api.client.get("/health")
        assert r.status_code == 200
        assert r.json() == {"status": "ok", "database": "ok", "redis": "ok", "queueDepth": 0}
        await client.zadd(queue, {"job-a": 1, "job-b": 2, "job-c": 3})
        assert (await api.client.get("/health")).json()["queueDepth"] == 3
    finally:
        await client.delete(queue)
        await client.aclose()


async def test_health_is_503_when_redis_does_not_answer(api: Any, settings_override: Any) -> None:
    settings_override(redis_url="redis://127.0.0.1:1/0")
    r = await api.client.get("/health")
    assert r.status_code == 503
    assert r.json() == {"status": "degraded", "database": "ok", "redis": "unavailable", "queueDepth": None}


async def test_health_without_redis_is_ready_on_the_database_alone(api: Any, settings_override: Any) -> None:
    settings_override(redis_url=None)
    r = await api.client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "redis": "not configured", "queueDepth": None}
