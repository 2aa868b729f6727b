from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import index_sql, run_statements

ID = "2026-12-04T19:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "funds: the chain queue read in entry order by index, and taken without a join"

# The linker took its batch with DELETE … WHERE id IN (SELECT id … ORDER BY entry_id LIMIT n). Without
# statistics on the queue (a new database, or autovacuum not yet round) the planner ran that as a
# nested loop over the whole queue for every row taken: 60 rows out of a 280,000-row backlog took
# 2 s, and a batch of 5,000 took over two minutes, which is what a linker meets after an outage or a
# large batch of postings. Now an index on (tenant_id, entry_id) gives the queue in entry order, and
# the batch is every queued entry up to the n-th entry id (a scalar subquery, evaluated once). An
# entry with a lower id that commits between the two reads is taken too; the linker links exactly
# the rows its DELETE returned, so the batch may hold a few more than n.
QUEUE_INDEX = index_sql("ledger_unchained", ("tenant_id", "entry_id"))

LINK_PENDING = r"""
CREATE OR REPLACE FUNCTION ledger_link_pending(p_tenant bigint, p_limit integer, p_lock_ns integer, p_chain text)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    v_entries bigint[];
    v_hashes text[];
    v_seq bigint := 0;
    v_prev text := '';
    l_seq bigint;
    l_hash text;
    h_seq bigint;
    h_hash text;
    n integer;
    i integer;
    c_seq bigint[];
    c_prev text[];
    c_hash text[];
BEGIN
    IF NOT pg_try_advisory_xact_lock(p_lock_ns, p_tenant::integer) THEN
        RETURN -1;
    END IF;
    WITH d AS (
        DELETE FROM ledger_unchained u WHERE u.tenant_id = p_tenant AND u.entry_id <= (
            SELECT max(s.entry_id) FROM (SELECT q.entry_id FROM ledger_unchained q WHERE q.tenant_id = p_tenant
                                         ORDER BY q.entry_id LIMIT p_limit) s)
        RETURNING u.entry_id, u.content_hash)
    SELECT array_agg(d.entry_id ORDER BY d.entry_id), array_agg(d.content_hash ORDER BY d.entry_id)
    INTO v_entries, v_hashes FROM d;
    n := coalesce(array_length(v_entries, 1), 0);
    IF n = 0 THEN
        RETURN 0;
    END IF;
    SELECT c.seq, c.hash INTO l_seq, l_hash FROM ledger_chain c WHERE c.tenant_id = p_tenant
        ORDER BY c.seq DESC LIMIT 1;
    SELECT h.seq, h.hash INTO h_seq, h_hash FROM chain_head h WHERE h.tenant_id = p_tenant AND h.chain = p_chain;
    IF h_seq IS NOT NULL AND (l_seq IS NULL OR h_seq >= l_seq) THEN
        v_seq := h_seq;
        v_prev := h_hash;
    ELSIF l_seq IS NOT NULL THEN
        v_seq := l_seq;
        v_prev := l_hash;
    END IF;
    c_seq := array_fill(0::bigint, ARRAY[n]);
    c_prev := array_fill(''::text, ARRAY[n]);
    c_hash := array_fill(''::text, ARRAY[n]);
    FOR i IN 1..n LOOP
        v_seq := v_seq + 1;
        c_seq[i] := v_seq;
        c_prev[i] := v_prev;
        v_prev := encode(sha256(convert_to(
            p_tenant::text || '|' || v_seq::text || '|' || v_entries[i]::text || '|' || v_hashes[i] || '|' || v_prev,
            'UTF8')), 'hex');
        c_hash[i] := v_prev;
    END LOOP;
    INSERT INTO ledger_chain (tenant_id, seq, entry_id, content_hash, prev_hash, hash, chained_at)
        SELECT p_tenant, x.s, x.e, x.c, x.p, x.h, now()
        FROM unnest(c_seq, v_entries, v_hashes, c_prev, c_hash) AS x(s, e, c, p, h);
    INSERT INTO chain_head (tenant_id, chain, seq, hash, updated_at) VALUES (p_tenant, p_chain, v_seq, v_prev,
        CURRENT_TIMESTAMP)
        ON CONFLICT (tenant_id, chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,
        updated_at = excluded.updated_at;
    RETURN n;
END
$fn$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funds", description=DESCRIPTION)

    async def run():
        await run_statements([], [QUEUE_INDEX[0], LINK_PENDING], [QUEUE_INDEX[1]])

    manager.add_raw(run)
    return manager
