from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import run_statements

ID = "2026-12-04T12:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "funds: ledger_post_checked, a posting with all its checks in one database call (PostgreSQL)"

# The same steps, in the same order, as core.funds.posting's statement path (see its docstring):
# shared ledger lock, the entry (or the first entry for a repeated key), its chain-queue row, the
# accounts locked in id order, the account checks, the closed period, the budgets locked in id order
# and checked, then balances, postings and transfer rows. A refusal raises SQLSTATE HL001 with the
# ErrorCode name in DETAIL and the field in HINT; the caller turns it into the same DomainError the
# statement path raises, and the aborted statement has written nothing. The chart's code lists come in
# as arguments so core/funds/chart.py stays their only source.
POST_CHECKED = r"""
CREATE OR REPLACE FUNCTION ledger_post_checked(
    p_tenant bigint, p_key text, p_kind text, p_memo text, p_source_type text, p_source_id text,
    p_entry_date date, p_reverses_id bigint, p_created_by bigint, p_approved_by bigint, p_request_hash text,
    p_content_hash text, p_created_at timestamptz, p_lock_ns integer,
    p_accounts bigint[], p_amounts bigint[], p_release_ids bigint[], p_release_fen bigint[],
    p_budget_release_ids bigint[], p_budget_release_fen bigint[], p_no_swing text[], p_expense text[],
    p_t_kind text[], p_t_dir text[], p_t_from bigint[], p_t_to bigint[], p_t_fund bigint[], p_t_amount bigint[])
RETURNS TABLE (o_entry bigint, o_created boolean, o_hash text, o_id bigint, o_unit bigint, o_fund bigint,
               o_code text)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_entry bigint;
    v_hash text;
    v_ids bigint[];
    v_year integer := extract(year FROM p_entry_date)::integer;
    v_period text := to_char(p_entry_date, 'YYYY-MM');
    r record;
    b record;
    n integer := 0;
    i integer;
    k integer;
    d bigint;
    rel bigint;
    nb bigint;
    nr bigint;
    bef bigint;
    aft bigint;
    lim bigint;
    a_id bigint[] := '{}';
    a_unit bigint[] := '{}';
    a_fund bigint[] := '{}';
    a_code text[] := '{}';
    a_bal bigint[] := '{}';
    a_res bigint[] := '{}';
    a_obal bigint[] := '{}';
    a_ores bigint[] := '{}';
    a_sign integer[] := '{}';
    a_nn boolean[] := '{}';
    l_unit bigint[] := '{}';
    l_fund bigint[] := '{}';
    l_code text[] := '{}';
    bu bigint;
    bf bigint;
    bs bigint;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(p_lock_ns, p_tenant::integer);
    INSERT INTO ledger_entry AS e (tenant_id, idempotency_key, kind, memo, source_type, source_id, entry_date,
        reverses_id, created_by, approved_by, request_hash, content_hash, created_at)
    VALUES (p_tenant, p_key, p_kind, p_memo, p_source_type, p_source_id, p_entry_date, p_reverses_id,
        p_created_by, p_approved_by, p_request_hash, p_content_hash, p_created_at)
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING e.id INTO v_entry;
    IF v_entry IS NULL THEN
        -- A repeated key: the insert waited for the first transaction; this statement's snapshot sees it.
        SELECT e.id, e.request_hash INTO v_entry, v_hash FROM ledger_entry e
        WHERE e.tenant_id = p_tenant AND e.idempotency_key = p_key;
        RETURN QUERY SELECT v_entry, false, v_hash, NULL::bigint, NULL::bigint, NULL::bigint, NULL::text;
        RETURN;
    END IF;
    INSERT INTO ledger_unchained (tenant_id, entry_id, content_hash) VALUES (p_tenant, v_entry, p_content_hash);

    v_ids := ARRAY(SELECT DISTINCT x FROM unnest(p_accounts || p_release_ids) AS x ORDER BY x);
    FOR r IN SELECT a.id, a.org_unit_id, a.fund_id, a.code, a.normal_sign, a.no_negative, a.balance_fen,
                    a.reserved_fen
             FROM ledger_account a WHERE a.tenant_id = p_tenant AND a.id = ANY(v_ids)
             ORDER BY a.id FOR NO KEY UPDATE LOOP
        n := n + 1;
        a_id[n] := r.id; a_unit[n] := r.org_unit_id; a_fund[n] := r.fund_id; a_code[n] := r.code;
        a_obal[n] := r.balance_fen; a_ores[n] := r.reserved_fen; a_sign[n] := r.normal_sign;
        a_nn[n] := r.no_negative;
        d := coalesce(p_amounts[array_position(p_accounts, r.id)], 0);
        rel := coalesce(p_release_fen[array_position(p_release_ids, r.id)], 0);
        -- New balance and reserved: checked below, after the books are known to balance (the
        -- statement path's order, so both report the same refusal first).
        a_bal[n] := r.balance_fen + d;
        a_res[n] := r.reserved_fen - rel;
    END LOOP;
    IF n <> cardinality(v_ids) THEN
        RAISE EXCEPTION USING ERRCODE = 'HL001', MESSAGE = 'an account of this entry does not exist',
            DETAIL = 'NOT_FOUND', HINT = 'accountId';
    END IF;
    FOR i IN 1 .. cardinality(p_accounts) LOOP
        k := array_position(a_id, p_accounts[i]);
        l_unit[i] := a_unit[k]; l_fund[i] := a_fund[k]; l_code[i] := a_code[k];
    END LOOP;
    SELECT x.u, x.f, sum(x.m) INTO bu, bf, bs
    FROM unnest(l_unit, l_fund, p_amounts) WITH ORDINALITY AS x(u, f, m, o)
    GROUP BY x.u, x.f HAVING sum(x.m) <> 0 ORDER BY min(x.o) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'HL001', DETAIL = 'UNBALANCED', HINT = 'postings',
            MESSAGE = format('postings for org unit %s, fund %s are off by %s fen; each unit''s books must balance '
                             'per fund', bu, bf, bs);
    END IF;
    FOR i IN 1 .. n LOOP
        nb := a_bal[i];
        nr := a_res[i];
        IF nr < 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'HL001', MESSAGE = 'more released than reserved on an account',
                DETAIL = 'INVALID_STATE', HINT = 'amountFen';
        END IF;
        IF a_nn[i] OR a_code[i] = ANY(p_no_swing) THEN
            bef := a_sign[i] * a_obal[i] - a_ores[i];
            aft := a_sign[i] * nb - nr;
            IF aft < 0 AND aft < bef THEN
                IF a_code[i] = ANY(p_no_swing) THEN
                    RAISE EXCEPTION USING ERRCODE = 'HL001', DETAIL = 'INSUFFICIENT_FUNDS', HINT = 'amountFen',
                        MESSAGE = format('account %s (id %s) shows %s fen owed upward; this entry settles %s fen '
                                         '(more than is owed: was the share already paid directly?)',
                                         a_code[i], a_id[i], greatest(bef, 0), bef - aft);
                END IF;
                RAISE EXCEPTION USING ERRCODE = 'HL001', DETAIL = 'INSUFFICIENT_FUNDS', HINT = 'amountFen',
                    MESSAGE = format('account %s (id %s) has %s fen available; this entry needs %s fen',
                                     a_code[i], a_id[i], greatest(bef, 0), bef - aft);
            END IF;
        END IF;
    END LOOP;

    IF EXISTS (SELECT 1 FROM ledger_period pe WHERE pe.tenant_id = p_tenant AND pe.period = v_period) THEN
        RAISE EXCEPTION USING ERRCODE = 'HL001', DETAIL = 'PERIOD_CLOSED', HINT = 'entryDate',
            MESSAGE = format('the accounting period %s is closed', v_period);
    END IF;

    IF cardinality(p_budget_release_ids) > 0 OR l_code && p_expense THEN
        FOR b IN SELECT bg.id, bg.org_unit_id, bg.fund_id, bg.year, bg.amount_fen, bg.lifted_fen, bg.spent_fen,
                        bg.reserved_fen
                 FROM ledger_budget bg
                 WHERE bg.tenant_id = p_tenant AND (bg.id = ANY(p_budget_release_ids) OR (bg.year = v_year
                   AND (bg.org_unit_id, bg.fund_id) IN (
                       SELECT x.u, x.f FROM unnest(l_unit, l_fund, l_code, p_amounts) AS x(u, f, c, m)
                       WHERE x.c = ANY(p_expense) GROUP BY x.u, x.f HAVING sum(x.m) <> 0)))
                 ORDER BY bg.id FOR NO KEY UPDATE LOOP
            d := 0;
            IF b.year = v_year THEN
                SELECT coalesce(sum(x.m), 0) INTO d FROM unnest(l_unit, l_fund, l_code, p_amounts) AS x(u, f, c, m)
                WHERE x.c = ANY(p_expense) AND x.u = b.org_unit_id AND x.f = b.fund_id;
            END IF;
            rel := coalesce(p_budget_release_fen[array_position(p_budget_release_ids, b.id)], 0);
            lim := b.amount_fen + b.lifted_fen;
            bef := b.spent_fen + b.reserved_fen;
            aft := b.spent_fen + d + b.reserved_fen - rel;
            IF aft > lim AND aft > bef THEN
                RAISE EXCEPTION USING ERRCODE = 'HL001', DETAIL = 'BUDGET_EXCEEDED', HINT = 'amountFen',
                    MESSAGE = format('the %s budget of this fund at org unit %s has %s fen left; this entry needs '
                                     '%s fen (an approver can lift the budget)', b.year, b.org_unit_id,
                                     greatest(lim - bef, 0), aft - bef);
            END IF;
            UPDATE ledger_budget bg SET spent_fen = b.spent_fen + d,
                reserved_fen = greatest(b.reserved_fen - rel, 0), updated_at = now()
            WHERE bg.tenant_id = p_tenant AND bg.id = b.id;
        END LOOP;
    END IF;

    UPDATE ledger_account a SET balance_fen = x.nb, reserved_fen = x.nr
    FROM unnest(a_id, a_bal, a_res) AS x(i, nb, nr) WHERE a.tenant_id = p_tenant AND a.id = x.i;
    INSERT INTO ledger_posting (tenant_id, entry_id, account_id, org_unit_id, fund_id, code, entry_date, amount_fen)
    SELECT p_tenant, v_entry, x.a, x.u, x.f, x.c, p_entry_date, x.m
    FROM unnest(p_accounts, l_unit, l_fund, l_code, p_amounts) WITH ORDINALITY AS x(a, u, f, c, m, o) ORDER BY x.o;
    IF cardinality(p_t_kind) > 0 THEN
        INSERT INTO ledger_transfer (tenant_id, entry_id, kind, direction, from_unit_id, to_unit_id, fund_id,
            amount_fen, entry_date)
        SELECT p_tenant, v_entry, x.k, x.d, x.f, x.t, x.u, x.m, p_entry_date
        FROM unnest(p_t_kind, p_t_dir, p_t_from, p_t_to, p_t_fund, p_t_amount) AS x(k, d, f, t, u, m);
    END IF;
    RETURN QUERY SELECT v_entry, true, p_request_hash, x.i, x.u, x.f, x.c
        FROM unnest(a_id, a_unit, a_fund, a_code) AS x(i, u, f, c);
END
$fn$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funds", description=DESCRIPTION)

    async def run():
        await run_statements([], [POST_CHECKED])  # SQLite posts statement by statement

    manager.add_raw(run)
    return manager
