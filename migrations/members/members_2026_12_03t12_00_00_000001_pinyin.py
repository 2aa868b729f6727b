from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T12:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "members: indexes for lists in pinyin order (ICU zh collation), where the server has ICU"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="members", description=DESCRIPTION)

    async def run():
        from piccolo.engine.finder import engine_finder
        from piccolo.engine.postgres import PostgresEngine
        from piccolo.querystring import QueryString

        engine = engine_finder()
        if not isinstance(engine, PostgresEngine):
            return  # SQLite sorts with its zh_pinyin collation (core.db) and no index: it is the small default
        rows = await engine.run_querystring(QueryString("SELECT 1 AS ok FROM pg_collation WHERE collname = 'zh-x-icu'"))
        if not rows:
            return  # no ICU: core.members.queries falls back to code-point order, served by ix_member_name
        # The same shapes as ix_member_name / ix_member_unit, sorted by pinyin: a list's first page,
        # and every page after it by keyset, stays an index walk at a million members.
        for statement in (
            'CREATE INDEX IF NOT EXISTS ix_member_name_zh ON member (tenant_id, (name_search COLLATE "zh-x-icu"), id)',
            'CREATE INDEX IF NOT EXISTS ix_member_unit_zh ON member '
            '(tenant_id, org_unit_id, (name_search COLLATE "zh-x-icu"), id)',
        ):
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
