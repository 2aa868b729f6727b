"""The workflow domain as a plugin: its tables and the cron job that runs every machine's timers."""

from __future__ import annotations

from typing import Any

from core.hookspecs import hookimpl


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["core.workflow.piccolo_app"]


@hookimpl
def register_cron() -> list[Any]:
    from core.workflow.jobs import cron_jobs

    return cron_jobs()
