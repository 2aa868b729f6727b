"""Who may read /metrics: a scraper with the configured token; without a token, anyone in
development but only loopback clients in production. Request paths and counts are reconnaissance."""

from __future__ import annotations

import httpx


async def metrics_from(app, ip: str, headers: dict | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await client.get("/graphql?query={__typename}")  # something for the request counters to count
        return await client.get("/metrics", headers=headers or {})


async def test_development_serves_metrics_to_anyone(app):
    r = await metrics_from(app, "10.1.2.3")
    assert r.status_code == 200 and 'app_name="huijia"' in r.text


async def test_production_without_a_token_serves_only_loopback(app, settings_override):
    settings_override(env="production")
    assert (await metrics_from(app, "10.1.2.3")).status_code == 404
    assert (await metrics_from(app, "203.0.113.9")).status_code == 404
    local = await metrics_from(app, "127.0.0.1")
    assert local.status_code == 200 and 'app_name="huijia"' in local.text


async def test_a_token_is_required_from_everywhere_once_set(app, settings_override):
    token = "scrape-token-0123456789abcdef"
    settings_override(env="production", metrics_token=token)
    assert (await metrics_from(app, "127.0.0.1")).status_code == 404
    assert (await metrics_from(app, "10.1.2.3", {"Authorization": "Bearer wrong-token-0123456789"})).status_code == 404
    ok = await metrics_from(app, "10.1.2.3", {"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and 'app_name="huijia"' in ok.text


def test_a_short_metrics_token_is_refused_at_start_up():
    import pytest

    from core.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="HUIJIA_METRICS_TOKEN"):
        load_settings({"HUIJIA_METRICS_TOKEN": "short"})
    assert load_settings({"HUIJIA_METRICS_TOKEN": "x" * 16}).metrics_token == "x" * 16
