"""A browser opening a page of the web UI gets the UI even where a capability's file route shares the
path's first segment (``/hardship/cases`` beside ``GET /hardship/attachments/{id}``); API clients
keep their JSON 404."""

from __future__ import annotations


async def test_a_page_under_a_plugin_route_prefix_serves_the_ui(client):
    page = await client.get("/hardship/cases", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "会家" in page.text
    api = await client.get("/hardship/cases", headers={"accept": "application/json"})
    assert api.status_code == 404 and "text/html" not in api.headers["content-type"]
    # A file that does not exist is still a JSON 404 for a download client, whatever the path.
    missing = await client.get("/hardship/attachments/999999999")
    assert missing.status_code in (401, 404) and "text/html" not in missing.headers["content-type"]
    # Posting is never answered with the page.
    assert (await client.post("/hardship/cases", headers={"accept": "text/html"})).status_code in (404, 405)
