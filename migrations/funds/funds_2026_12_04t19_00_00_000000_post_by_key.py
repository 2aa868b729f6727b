from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import run_statements

ID = "2026-12-04T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "funds: ledger_post_checked updates each account as it locks it, by primary key (PostgreSQL)"

# What changed against the first version of the function, and why (measured on bench-ledger, 8 clients):
# - each account is locked by its own UPDATE (primary key, id order) instead of SELECT … FOR NO KEY
#   UPDATE over ``id = ANY(…)`` followed by one UPDATE … FROM unnest(…). The set-based statements
#   had generic plans that scanned every account of the tenant (tenant_id index, or a hash join over a
#   sequential scan) on each posting: cheap on a small chart, a scan per posting on a province with
#   tens of thousands of accounts. A guard in the UPDATE keeps the CHECK constraints from firing, so
#   refusals keep the ledger's messages (see the function's comments);
# - the shared lock, the entry and its chain-queue row are one statement, the per-book balance check
#   is a loop over the lines, and the result comes back as one row of arrays: fewer statements per
#   call, each of which costs an executor start-up;
# - the caller passes the touched account ids sorted (``p_ids``); the function checks the order.
# Refusals, their order and their messages are those of the first version and of the statement path.
DROP_FIRST = (
    "DROP FUNCTION IF EXISTS ledger_post_checked(bigint, text, text, text, text, text, date, bigint, bigint, bigint, "
    "text, text, timestamptz, integer, bigint[], bigint[], bigint[], bigint[], bigint[], bigint[], text[], text[], "
    "text[], text[], bigint[], bigint[], bigint[], bigint[])"
)

POST_CHECKED = r"""
CREATE FUNCTION ledger_post_checked(
    p_tenant bigint, p_key text, p_kind text, p_memo text, p_source_type text, p_source_id text,
    p_entry_date date, p_reverses_id bigint, p_created_by bigint, p_approved_by bigint, p_request_hash text,
    p_content_hash text, p_created_at timestamptz, p_lock_ns integer, p_ids bigint[],
    p_accounts bigint[], p_amounts bigint[], p_release_ids bigint[], p_release_fen bigint[],
    p_budget_release_ids bigint[], p_budget_release_fen bigint[], p_no_swing text[], p_expense text[],
    p_t_kind text[], p_t_dir text[], p_t_from bigint[], p_t_to bigint[], p_t_fund bigint[], p_t_amount bigint[],
    OUT o_entry bigint, OUT o_created boolean, OUT o_hash text, OUT o_ids bigint[], OUT o_units bigint[],
    OUT o_funds bigint[], OUT o_codes text[])
LANGUAGE plpgsql AS $fn$
DECLARE
    v_year integer := extract(year FROM p_entry_date)::integer;
    v_period text := to_char(p_entry_date, 'YYYY-MM');
    v_id bigint;
    v_refused boolean := false;
    r record;
    b record;
    m integer := cardinality(p_accounts);
    n integer := 0;
    i integer;
    j integer;
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
    bs bigint;
    bu bigint;
    b_year integer;
    n_spend integer;
    v_closed boolean;
    s_unit bigint[] := '{}';
    s_fund bigint[] := '{}';
    s_add bigint[] := '{}';
BEGIN
    -- p_ids: every account the entry touches, ascending and distinct (the caller sorts them; checked
    -- here because the lock order depends on it).
    FOR i IN 2 .. coalesce(cardinality(p_ids), 0) LOOP
        IF p_ids[i] <= p_ids[i - 1] THEN
            RAISE EXCEPTION 'ledger_post_checked: p_ids must be ascending and distinct';
        END IF;
    END LOOP;

    -- The shared ledger lock, the entry and its chain-queue row in one statement (the lock is taken
    -- before the insert runs; nothing this statement reads depends on what the lock guards).
    WITH l AS (SELECT pg_advisory_xact_lock_shared(p_lock_ns, p_tenant::integer)),
    e AS (
        INSERT INTO ledger_entry AS e (tenant_id, idempotency_key, kind, memo, source_type, source_id, entry_date,
            reverses_id, created_by, approved_by, request_hash, content_hash, created_at)
        SELECT p_tenant, p_key, p_kind, p_memo, p_source_type, p_source_id, p_entry_date, p_reverses_id,
            p_created_by, p_approved_by, p_request_hash, p_content_hash, p_created_at FROM l
        ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING e.id),
    q AS (INSERT INTO ledger_unchained (tenant_id, entry_id, content_hash) SELECT p_tenant, e.id, p_content_hash FROM e)
    SELECT e.id INTO o_entry FROM e;
    IF o_entry IS NULL THEN
        -- A repeated key: the insert waited for the first transaction; this statement's snapshot sees it.
        SELECT e.id, e.request_hash INTO o_entry, o_hash FROM ledger_entry e
        WHERE e.tenant_id = p_tenant AND e.idempotency_key = p_key;
        o_created := false;
        RETURN;
    END IF;

    -- Each account is updated as it is locked: one primary-key statement per account, in id order
    -- (the lock order of every ledger path). The guard in WHERE keeps the row's CHECK constraints
    -- from firing: a row it refuses is left as it was and only locked, so the checks below report
    -- the refusal with the ledger's own message. Any refusal aborts the call, which undoes the
    -- updates already made.
    FOREACH v_id IN ARRAY p_ids LOOP
        d := coalesce(p_amounts[array_position(p_accounts, v_id)], 0);
        rel := coalesce(p_release_fen[array_position(p_release_ids, v_id)], 0);
        UPDATE ledger_account a SET balance_fen = a.balance_fen + d, reserved_fen = a.reserved_fen - rel
        WHERE a.tenant_id = p_tenant AND a.id = v_id AND a.reserved_fen - rel >= 0
          AND (NOT a.no_negative OR a.normal_sign * (a.balance_fen + d) - (a.reserved_fen - rel) >= 0)
        RETURNING a.id, a.org_unit_id, a.fund_id, a.code, a.normal_sign, a.no_negative,
                  a.balance_fen - d AS balance_fen, a.reserved_fen + rel AS reserved_fen INTO r;
        IF NOT FOUND THEN
            SELECT a.id, a.org_unit_id, a.fund_id, a.code, a.normal_sign, a.no_negative, a.balance_fen,
                   a.reserved_fen INTO r
            FROM ledger_account a WHERE a.tenant_id = p_tenant AND a.id = v_id FOR NO KEY UPDATE;
            IF NOT FOUND THEN
                CONTINUE;
            END IF;
            v_refused := true;
        END IF;
        n := n + 1;
        a_id[n] := r.id; a_unit[n] := r.org_unit_id; a_fund[n] := r.fund_id; a_code[n] := r.code;
        a_obal[n] := r.balance_fen; a_ores[n] := r.reserved_fen; a_sign[n] := r.normal_sign;
        a_nn[n] := r.no_negative;
        a_bal[n] := r.balance_fen + d;
        a_res[n] := r.reserved_fen - rel;
    END LOOP;
    IF n <> cardinality(p_ids) THEN
        RAISE EXCEPTION USING ERRCODE = 'HL001', MESSAGE = 'an account of this entry does not exist',
            DETAIL = 'NOT_FOUND', HINT = 'accountId';
    END IF;
    FOR i IN 1 .. m LOOP
        k := array_position(a_id, p_accounts[i]);
        IF k IS NULL THEN
            RAISE EXCEPTION 'ledger_post_checked: account % is missing from p_ids', p_accounts[i];
        END IF;
        l_unit[i] := a_unit[k]; l_fund[i] := a_fund[k]; l_code[i] := a_code[k];
    END LOOP;
    -- Each unit's books balance per fund; the first book off, in the order its lines come.
    FOR i IN 1 .. m LOOP
        bs := 0;
        FOR j IN 1 .. m LOOP
            IF l_unit[j] = l_unit[i] AND l_fund[j] = l_fund[i] THEN
                EXIT WHEN j < i;  -- this book was summed at its first line
                bs := bs + p_amounts[j];
            END IF;
        END LOOP;
        IF bs <> 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'HL001', DETAIL = 'UNBALANCED', HINT = 'postings',
                MESSAGE = format('postings for org unit %s, fund %s are off by %s fen; each unit''s books must '
                                 'balance per fund', l_unit[i], l_fund[i], bs);
        END IF;
    END LOOP;
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
    IF v_refused THEN  -- the guard left a row the checks passed: never post without its update
        RAISE EXCEPTION 'ledger_post_checked: an account''s balance checks and its update guard disagree';
    END IF;

    -- What the entry adds to budgets' spending: net 5xx amounts per (unit, fund), in line order.
    FOR i IN 1 .. m LOOP
        IF l_code[i] = ANY(p_expense) THEN
            k := NULL;
            FOR j IN 1 .. coalesce(cardinality(s_unit), 0) LOOP
                IF s_unit[j] = l_unit[i] AND s_fund[j] = l_fund[i] THEN
                    k := j;
                END IF;
            END LOOP;
            IF k IS NULL THEN
                k := coalesce(cardinality(s_unit), 0) + 1;
                s_unit[k] := l_unit[i]; s_fund[k] := l_fund[i]; s_add[k] := 0;
            END IF;
            s_add[k] := s_add[k] + p_amounts[i];
        END IF;
    END LOOP;
    n_spend := 0;
    FOR j IN 1 .. coalesce(cardinality(s_unit), 0) LOOP
        IF s_add[j] <> 0 THEN
            n_spend := n_spend + 1;
            k := j;
        END IF;
    END LOOP;

    IF n_spend <= 1 AND cardinality(p_budget_release_ids) = 0 THEN
        -- The usual entry: at most one budget to charge and nothing released. The postings, that
        -- budget's update by its natural key and the period's state in one statement; a closed period
        -- or an exceeded budget found in its result aborts the call, which undoes them.
        IF n_spend = 0 THEN
            k := NULL;
        END IF;
        WITH i AS (
            INSERT INTO ledger_posting (tenant_id, entry_id, account_id, org_unit_id, fund_id, code, entry_date,
                amount_fen)
            SELECT p_tenant, o_entry, x.a, x.u, x.f, x.c, p_entry_date, x.m
            FROM unnest(p_accounts, l_unit, l_fund, l_code, p_amounts) WITH ORDINALITY AS x(a, u, f, c, m, o)
            ORDER BY x.o),
        bk AS (
            UPDATE ledger_budget bg SET spent_fen = bg.spent_fen + s_add[k], updated_at = now()
            WHERE k IS NOT NULL AND bg.tenant_id = p_tenant AND bg.org_unit_id = s_unit[k]
              AND bg.fund_id = s_fund[k] AND bg.year = v_year
            RETURNING bg.org_unit_id, bg.year, bg.amount_fen + bg.lifted_fen AS lim,
                      bg.spent_fen + bg.reserved_fen AS aft)
        SELECT EXISTS (SELECT 1 FROM ledger_period pe WHERE pe.tenant_id = p_tenant AND pe.period = v_period),
               bk.org_unit_id, bk.year, bk.lim, bk.aft
        INTO v_closed, bu, b_year, lim, aft FROM (SELECT 1) AS one LEFT JOIN bk ON TRUE;
        IF v_closed THEN
            RAISE EXCEPTION USING ERRCODE = 'HL001', DETAIL = 'PERIOD_CLOSED', HINT = 'entryDate',
                MESSAGE = format('the accounting period %s is closed', v_period);
        END IF;
        IF bu IS NOT NULL AND s_add[k] > 0 AND aft > lim THEN
            bef := aft - s_add[k];
            RAISE EXCEPTION USING ERRCODE = 'HL001', DETAIL = 'BUDGET_EXCEEDED', HINT = 'amountFen',
                MESSAGE = format('the %s budget of this fund at org unit %s has %s fen left; this entry needs '
                                 '%s fen (an approver can lift the budget)', b_year, bu, greatest(lim - bef, 0),
                                 s_add[k]);
        END IF;
    ELSE
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
                    FOR i IN 1 .. m LOOP
                        IF l_code[i] = ANY(p_expense) AND l_unit[i] = b.org_unit_id AND l_fund[i] = b.fund_id THEN
                            d := d + p_amounts[i];
                        END IF;
                    END LOOP;
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

        INSERT INTO ledger_posting (tenant_id, entry_id, account_id, org_unit_id, fund_id, code, entry_date, amount_fen)
        SELECT p_tenant, o_entry, x.a, x.u, x.f, x.c, p_entry_date, x.m
        FROM unnest(p_accounts, l_unit, l_fund, l_code, p_amounts) WITH ORDINALITY AS x(a, u, f, c, m, o) ORDER BY x.o;
    END IF;
    IF cardinality(p_t_kind) > 0 THEN
        INSERT INTO ledger_transfer (tenant_id, entry_id, kind, direction, from_unit_id, to_unit_id, fund_id,
            amount_fen, entry_date)
        SELECT p_tenant, o_entry, x.k, x.d, x.f, x.t, x.u, x.m, p_entry_date
        FROM unnest(p_t_kind, p_t_dir, p_t_from, p_t_to, p_t_fund, p_t_amount) AS x(k, d, f, t, u, m);
    END IF;
    o_created := true;
    o_hash := p_request_hash;
    o_ids := a_id; o_units := a_unit; o_funds := a_fund; o_codes := a_code;
END
$fn$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funds", description=DESCRIPTION)

    async def run():
        await run_statements([], [DROP_FIRST, POST_CHECKED])  # SQLite posts statement by statement

    manager.add_raw(run)
    return manager
