from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import run_statements

ID = "2026-12-03T12:09:58:983238"
VERSION = "1.38.0"
DESCRIPTION = "jobs: the stale-run sweep reads only running jobs (partial index; job_record grows with every cron run)"

RUNNING_INDEX = ("CREATE INDEX IF NOT EXISTS job_record_running ON job_record (tenant_id, heartbeat_at) "
                 "WHERE status = 'running'")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="jobs", description=DESCRIPTION)

    async def run():
        await run_statements([RUNNING_INDEX])

    manager.add_raw(run)
    return manager
