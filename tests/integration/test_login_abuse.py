"""Logins cannot be turned into a weapon: no batch of guesses in one request, a lock-out that
slows the guesser without shutting the owner out, and failures that do not flood the audit log."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.api import PASSWORD, Api, login, make_user, persona, unique

LOGIN = """mutation($t: String!, $u: String!, $p: String!) {
  login(tenantCode: $t, username: $u, password: $p) { token errors { field code message extensions } } }"""

ALIASES = "mutation { " + " ".join(
    f'a{i}: login(tenantCode: "fujian", username: "%s", password: "guess-{i}-xx") {{ token errors {{ code message }} }}'
    for i in range(30)) + " }"
ALIASES = ALIASES.replace("{{", "{").replace("}}", "}") if "{{" in ALIASES else ALIASES


@pytest.fixture
async def from_address(app):
    """An Api whose requests come from a given client address."""
    clients = []

    async def make(ip: str) -> Api:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)), base_url="http://testserver")
        clients.append(c)
        return Api(c)

    yield make
    for c in clients:
        await c.aclose()


async def _try(api: Api, user: str, password: str, tenant: str = "fujian") -> dict:
    return (await api.gql(LOGIN, {"t": tenant, "u": user, "p": password}))["data"]["login"]


class AuditClock:
    """The login audit's clock, set to the start of a window in the recent past and moved by hand."""

    def __init__(self, window: int) -> None:
        import time

        self.window = window
        self.start = (int(time.time()) // window - 6) * window
        self.now = float(self.start)

    def advance(self, seconds: float) -> None:
        self.now += seconds

    @property
    def window_start_iso(self) -> str:
        import datetime as dt

        return dt.datetime.fromtimestamp(self.start, dt.UTC).isoformat()

    async def flush_after_window(self) -> int:
        from core.accounts import login_audit

        return await login_audit.flush_due(now=self.start + self.window + login_audit.GRACE_SECONDS)


@pytest.fixture
def audit_clock(monkeypatch):
    from core.accounts import login_audit
    from core.settings import get_settings

    clock = AuditClock(get_settings().login_lock_seconds)
    monkeypatch.setattr(login_audit, "clock", lambda: clock.now)
    return clock


SUMMARIES = """query($f: AuditFilter) { auditRecords(filter: $f, first: 100) {
  nodes { actorName action targetType targetId changes } } }"""


async def _summaries(auditor, name: str) -> list[dict]:
    body = await auditor.api.gql(SUMMARIES, {"f": {"actionPrefix": "auth.login_"}})
    return [r for r in body["data"]["auditRecords"]["nodes"] if r["actorName"] == name]


async def _records(tenant, action: str, like: str) -> list[dict]:
    """The changes of a tenant's records of one action whose text contains ``like``."""
    import json

    from core.context import tenant_scope
    from core.dbutil import raw

    with tenant_scope(tenant):
        rows = await raw("SELECT changes FROM audit_record WHERE tenant_id = {} AND action = {} AND changes::text LIKE {}",
                         tenant.id, action, f"%{like}%")
    return [json.loads(r["changes"]) if isinstance(r["changes"], str) else r["changes"] for r in rows]


async def test_thirty_login_aliases_in_one_request_try_no_password(api):
    user = await make_user("fujian", "tenant_admin")
    body = await api.gql(ALIASES % ((user,) * 30))
    payloads = [body["data"][f"a{i}"] for i in range(30)]
    assert all(p["token"] is None and p["errors"][0]["code"] == "INVALID_INPUT" for p in payloads)
    # Nothing was counted against the account: the owner logs in at once, from the same address.
    assert await login(api, "fujian", user)
    # The same through fragments.
    frag = (f'mutation {{ ...A ...B }} fragment A on Mutation {{ login(tenantCode: "fujian", username: "{user}", password: "x1-xxxxxx") {{ errors {{ code }} }} }} '
            f'fragment B on Mutation {{ b: login(tenantCode: "fujian", username: "{user}", password: "{PASSWORD}") {{ token errors {{ code }} }} }}')
    body = await api.gql(frag)
    assert body["data"]["login"]["errors"][0]["code"] == "INVALID_INPUT" and body["data"]["b"]["token"] is None


async def test_a_guessing_address_is_locked_out_with_a_retry_after_while_the_owner_elsewhere_gets_in(from_address):
    attacker = await from_address("198.51.100.10")
    owner = await from_address("203.0.113.20")
    user = await make_user("fujian", "tenant_admin")
    for _ in range(5):
        assert (await _try(attacker, user, "wrong-password"))["errors"][0]["code"] == "INVALID_CREDENTIALS"
    refused = await _try(attacker, user, PASSWORD)
    err = refused["errors"][0]
    assert refused["token"] is None and err["code"] == "TOO_MANY_ATTEMPTS"
    wait = err["extensions"]["retryAfterSeconds"]
    assert 0 < wait <= 60 and f"{wait} seconds" in err["message"]
    # The owner, from an address that has not failed, is let in.
    assert (await _try(owner, user, PASSWORD))["token"]
    # Each further failure doubles the delay (refusals while locked do not count as guesses).
    from core.accounts import throttle
    from core.tenancy.services import get_tenant

    tenant = await get_tenant(code="fujian")
    keys = throttle.Keys.of(tenant.id, user, "198.51.100.10")
    await throttle._get_store().delete_prefix(keys.pair_lock)
    assert (await _try(attacker, user, "wrong-again"))["errors"][0]["code"] == "INVALID_CREDENTIALS"
    err = (await _try(attacker, user, PASSWORD))["errors"][0]
    assert err["code"] == "TOO_MANY_ATTEMPTS" and 60 < err["extensions"]["retryAfterSeconds"] <= 120


async def test_an_account_under_attack_from_many_addresses_still_admits_its_owner(from_address):
    user = await make_user("fujian", "approver")
    for n in range(20):  # four times the per-address limit, spread over many addresses
        bot = await from_address(f"192.0.2.{n + 1}")
        assert (await _try(bot, user, f"guess-{n}-xxxx"))["errors"][0]["code"] == "INVALID_CREDENTIALS"
    # Under attack, one failure locks an address out of the account.
    bot = await from_address("192.0.2.200")
    await _try(bot, user, "one-more-guess")
    assert (await _try(bot, user, PASSWORD))["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    owner = await from_address("203.0.113.77")
    assert (await _try(owner, user, PASSWORD))["token"]


async def test_password_spraying_from_one_address_locks_that_address_out_of_every_account(from_address,
                                                                                         settings_override):
    sprayer = await from_address("198.51.100.99")
    users = [await make_user("fujian", "clerk") for _ in range(3)]
    patched = settings_override(login_ip_max_failures=6)
    for i in range(6):
        assert (await _try(sprayer, users[i % 3], f"spray-{i}-xxxx"))["errors"][0]["code"] == "INVALID_CREDENTIALS"
    from core.tenancy.services import get_tenant

    fresh = await make_user("fujian", "clerk")
    err = (await _try(sprayer, fresh, PASSWORD))["errors"][0]
    assert err["code"] == "TOO_MANY_ATTEMPTS" and err["extensions"]["retryAfterSeconds"] > 0
    # Varying the username while locked buys no fresh audit records: refusals are summarised per
    # address and window, with the number of usernames tried and the address masked to its /24.
    for i in range(7):
        assert (await _try(sprayer, f"nobody-{i}-spray", "x-password"))["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    from core.accounts import login_audit

    window = patched.login_lock_seconds
    assert await login_audit.flush_due(now=login_audit.clock() + window + 10) >= 1
    tenant = await get_tenant(code="fujian")
    rows = await _records(tenant, "auth.login_throttled", "198.51.100.0/24")
    per_address = [c for c in rows if c["per"] == "address" and c["network"] == "198.51.100.0/24"]
    assert len(per_address) == 1
    assert per_address[0]["count"] == 8 and per_address[0]["accounts"] == 8  # fresh + 7 made-up names
    assert not await _records(tenant, "auth.login_throttled", "198.51.100.99")  # the full address is kept nowhere
    # Others are unaffected.
    other = await from_address("203.0.113.99")
    assert (await _try(other, fresh, PASSWORD))["token"]


UNLOCK = "mutation($u: ID!) { userUnlock(userId: $u) { user { username } errors { code } } }"


async def test_a_tenant_admin_unlocks_a_locked_account_within_the_subtree_only(api, from_address):
    attacker = await from_address("198.51.100.50")
    user = await make_user("fujian", "clerk", "fj-xiamen")
    for _ in range(5):
        await _try(attacker, user, "wrong-password")
    assert (await _try(attacker, user, PASSWORD))["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    fj_admin = await persona(api, "fujian", "tenant_admin")
    users = {u["username"]: u["id"] for u in (await fj_admin.api.gql(
        "query($p: String) { users(usernamePrefix: $p) { nodes { id username } } }", {"p": user}))["data"]["users"]["nodes"]}
    # Wrong role, wrong subtree, wrong tenant: refused, still locked.
    clerk = await persona(api, "fujian", "clerk")
    sibling_admin = await persona(api, "fujian", "tenant_admin", "fj-quanzhou")
    bj_admin = await persona(api, "beijing", "tenant_admin")
    for who, code in ((clerk, "FORBIDDEN"), (sibling_admin, "NOT_FOUND"), (bj_admin, "NOT_FOUND")):
        res = await who.api.gql(UNLOCK, {"u": users[user]})
        assert res["data"]["userUnlock"]["errors"][0]["code"] == code, who.username
    assert (await _try(attacker, user, PASSWORD))["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    res = await fj_admin.api.gql(UNLOCK, {"u": users[user]})
    assert res["data"]["userUnlock"]["errors"] == []
    assert (await _try(attacker, user, PASSWORD))["token"]
    auditor = await persona(api, "fujian", "auditor")
    rec = (await auditor.api.gql('{ auditRecords(filter: {actionPrefix: "user.unlock"}, first: 5) { nodes { actorName } } }'))
    assert rec["data"]["auditRecords"]["nodes"][0]["actorName"] == fj_admin.username


async def test_failures_then_refusals_leave_one_summary_record_each_once_the_window_closes(from_address, sh_auditor,
                                                                                          audit_clock):
    attacker = await from_address("198.51.100.77")
    name = unique("ghost-agg")
    for i in range(9):
        audit_clock.advance(1)
        await _try(attacker, name, f"nope-{i}-xxxx", tenant="shanghai")
    assert await _summaries(sh_auditor, name) == []  # nothing while the window is open
    await audit_clock.flush_after_window()
    mine = await _summaries(sh_auditor, name)
    failed = [r["changes"] for r in mine if r["action"] == "auth.login_failed"]
    throttled = [r["changes"] for r in mine if r["action"] == "auth.login_throttled"]
    # 5 failures, then 4 refusals while locked: one record each, with the count.
    assert [c["count"] for c in failed] == [5] and [c["count"] for c in throttled] == [4]
    assert all(c["window_seconds"] > 0 and c["window_start"] == audit_clock.window_start_iso for c in failed + throttled)
    assert failed[0]["addresses"] == 1 and failed[0]["networks"] == ["198.51.100.0/24"]


async def test_concurrent_guesses_from_one_address_are_each_counted_and_lock_it(from_address):
    import asyncio

    from core.accounts import throttle
    from core.tenancy.services import get_tenant

    attacker = await from_address("198.51.100.123")
    user = await make_user("fujian", "finance")
    answers = await asyncio.gather(*[_try(attacker, user, f"parallel-{i}-xx") for i in range(12)])
    codes = [a["errors"][0]["code"] for a in answers]
    assert all(a["token"] is None for a in answers) and set(codes) <= {"INVALID_CREDENTIALS", "TOO_MANY_ATTEMPTS"}
    tenant = await get_tenant(code="fujian")
    keys = throttle.Keys.of(tenant.id, user, "198.51.100.123")
    # Every password actually tried was counted (atomic increments), and the address is locked.
    assert await throttle._get_store().get(keys.pair) == codes.count("INVALID_CREDENTIALS") >= 5
    assert (await _try(attacker, user, PASSWORD))["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def test_without_redis_the_same_rules_hold_in_process(from_address, settings_override):
    from core.accounts import throttle

    settings_override(redis_url=None)
    throttle.reset_local()
    try:
        attacker = await from_address("198.51.100.200")
        owner = await from_address("203.0.113.200")
        user = await make_user("fujian", "auditor")
        for _ in range(5):
            await _try(attacker, user, "wrong-password")
        assert isinstance(throttle._get_store(), throttle._LocalStore)
        err = (await _try(attacker, user, PASSWORD))["errors"][0]
        assert err["code"] == "TOO_MANY_ATTEMPTS" and err["extensions"]["retryAfterSeconds"] > 0
        assert (await _try(owner, user, PASSWORD))["token"]
        from core.tenancy.services import get_tenant

        await throttle.unlock_account((await get_tenant(code="fujian")).id, user)
        assert (await _try(attacker, user, PASSWORD))["token"]
    finally:
        throttle.reset_local()


@pytest.fixture
def lenient_throttle(settings_override):
    """Limits high enough that every guess is tried (and fails) rather than refused."""
    return settings_override(login_max_failures=10_000, login_ip_max_failures=10_000)


async def test_two_hundred_failures_from_several_addresses_in_one_window_leave_one_record_with_count_200(
        from_address, sh_auditor, audit_clock, lenient_throttle, caplog):
    import logging

    from core.accounts import login_audit
    from core.tenancy.services import get_tenant

    caplog.set_level(logging.DEBUG)
    user = await make_user("shanghai", "clerk")
    ips = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "203.0.113.9", "2001:db8:aa:1::5"]
    bots = [await from_address(ip) for ip in ips]
    secret = "Pa55-w0rd-that-must-not-leak"
    for i in range(200):
        audit_clock.advance(2)  # 400 s: inside one 900 s window
        answer = await _try(bots[i % len(bots)], user, f"{secret}-{i}", tenant="shanghai")
        assert answer["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert await _summaries(sh_auditor, user) == []
    # Not before the window has closed (plus the grace for requests in flight).
    assert await login_audit.flush_due(now=audit_clock.start + audit_clock.window - 1) == 0
    assert await _summaries(sh_auditor, user) == []
    assert await audit_clock.flush_after_window() >= 1
    assert await audit_clock.flush_after_window() == 0  # flushed already: nothing more
    mine = await _summaries(sh_auditor, user)
    assert len(mine) == 1
    rec = mine[0]
    c = rec["changes"]
    assert rec["action"] == "auth.login_failed" and rec["targetType"] == "User"
    assert c["count"] == 200 and c["addresses"] == 5 and c["per"] == "account"
    assert c["networks"] == ["198.51.100.0/24", "2001:db8:aa::/48", "203.0.113.0/24"]
    assert c["window_start"] == audit_clock.window_start_iso and c["window_seconds"] == audit_clock.window
    assert c["first_at"] < c["last_at"] and c["first_at"] >= audit_clock.window_start_iso
    # Nothing of the passwords (nor full addresses) in the audit log or the logs.
    tenant = await get_tenant(code="shanghai")
    for needle in (secret, "Pa55", "198.51.100.1", "203.0.113.9", "2001:db8:aa:1::5"):
        assert not await _records(tenant, "auth.login_failed", needle), needle
    assert secret not in caplog.text and "Pa55" not in caplog.text


async def test_two_windows_leave_two_records_and_the_next_failure_flushes_the_closed_window(
        from_address, sh_auditor, audit_clock):
    attacker = await from_address("198.51.100.140")
    name = unique("ghost-2win")
    for i in range(3):
        audit_clock.advance(10)
        await _try(attacker, name, f"first-{i}-xxxx", tenant="shanghai")
    audit_clock.advance(audit_clock.window)  # the next window
    await _try(attacker, name, "second-window-x", tenant="shanghai")
    # The first window's record was written by that failure, with no cron run in between.
    first = await _summaries(sh_auditor, name)
    assert [(r["action"], r["changes"]["count"]) for r in first] == [("auth.login_failed", 3)]
    await _try(attacker, name, "second-window-y", tenant="shanghai")
    from core.accounts import login_audit

    await login_audit.flush_due(now=audit_clock.start + 2 * audit_clock.window + login_audit.GRACE_SECONDS)
    both = await _summaries(sh_auditor, name)
    assert sorted(r["changes"]["count"] for r in both) == [2, 3]
    assert len({r["changes"]["window_start"] for r in both}) == 2


async def test_concurrent_flushes_of_one_window_write_one_record(from_address, sh_auditor, audit_clock):
    import asyncio

    from core.accounts import login_audit
    from core.tenancy.services import get_tenant

    attacker = await from_address("198.51.100.141")
    name = unique("ghost-conc")
    for i in range(4):
        await _try(attacker, name, f"conc-{i}-xxxx", tenant="shanghai")
    tenant = await get_tenant(code="shanghai")
    key = login_audit.summary_key(login_audit.Event(tenant.id, name, "", "auth.login_failed"),
                                  audit_clock.start // audit_clock.window)
    now = audit_clock.start + audit_clock.window + login_audit.GRACE_SECONDS
    written = await asyncio.gather(*[login_audit.flush_due(now=now) for _ in range(4)],
                                   *[login_audit.flush_key(key, now=now) for _ in range(4)])
    mine = await _summaries(sh_auditor, name)
    assert len(mine) == 1 and mine[0]["changes"]["count"] == 4
    assert sum(written) >= 1


async def test_a_flusher_that_died_after_writing_does_not_cause_a_second_record(from_address, sh_auditor, audit_clock):
    from core.accounts import login_audit
    from core.tenancy.services import get_tenant

    attacker = await from_address("198.51.100.142")
    name = unique("ghost-died")
    await _try(attacker, name, "died-0-xxxx", tenant="shanghai")
    tenant = await get_tenant(code="shanghai")
    key = login_audit.summary_key(login_audit.Event(tenant.id, name, "", "auth.login_failed"),
                                  audit_clock.start // audit_clock.window)
    store = login_audit._store()
    data = await store.read(key)
    # The first flusher wrote its record and died before clearing the pending summary; its claim
    # has expired. The next flusher finds the record by the summary's id and writes none.
    assert await login_audit.write_summary(key, data) is True
    assert await audit_clock.flush_after_window() == 0
    mine = await _summaries(sh_auditor, name)
    assert len(mine) == 1 and mine[0]["changes"]["summary"] == login_audit.summary_id(key)
    assert await store.read(key) is None  # and the pending summary is gone


async def test_concurrent_writers_past_the_claim_still_write_one_record(from_address, sh_auditor, audit_clock):
    """The second fence: flushers whose Redis claims overlapped (one outlived its claim's expiry)
    write one record between them, through the check under the tenant's audit lock."""
    import asyncio

    from core.accounts import login_audit
    from core.tenancy.services import get_tenant

    attacker = await from_address("198.51.100.146")
    name = unique("ghost-fence")
    for i in range(2):
        await _try(attacker, name, f"fence-{i}-xxxx", tenant="shanghai")
    tenant = await get_tenant(code="shanghai")
    key = login_audit.summary_key(login_audit.Event(tenant.id, name, "", "auth.login_failed"),
                                  audit_clock.start // audit_clock.window)
    data = await login_audit._store().read(key)
    wrote = await asyncio.gather(*[login_audit.write_summary(key, data) for _ in range(5)])
    assert sorted(wrote) == [False, False, False, False, True]
    mine = await _summaries(sh_auditor, name)
    assert len(mine) == 1 and mine[0]["changes"]["count"] == 2


async def test_pending_summaries_survive_a_restart_of_the_api_process(from_address, sh_auditor, audit_clock):
    """They live in Redis: a new store (as in a fresh process) flushes what the old one counted."""
    from core.accounts import login_audit, throttle

    attacker = await from_address("198.51.100.143")
    name = unique("ghost-restart")
    for i in range(3):
        await _try(attacker, name, f"restart-{i}-xx", tenant="shanghai")
    throttle.reset_local()
    login_audit.reset_local()
    assert await audit_clock.flush_after_window() >= 1
    assert [r["changes"]["count"] for r in await _summaries(sh_auditor, name)] == [3]


async def test_without_redis_summaries_are_flushed_by_cron_and_at_shutdown(from_address, sh_auditor, audit_clock,
                                                                          settings_override):
    from core.accounts import login_audit, throttle

    settings_override(redis_url=None)
    throttle.reset_local()
    login_audit.reset_local()
    try:
        attacker = await from_address("198.51.100.144")
        closed, still_open = unique("ghost-local"), unique("ghost-open")
        for i in range(3):
            await _try(attacker, closed, f"local-{i}-xxxx", tenant="shanghai")
        assert isinstance(login_audit._store(), login_audit._LocalSummaries)
        assert await audit_clock.flush_after_window() == 1
        assert await audit_clock.flush_after_window() == 0
        audit_clock.advance(audit_clock.window + 5)
        await _try(attacker, still_open, "open-window-x", tenant="shanghai")
        await login_audit.flush_on_shutdown()  # the process ends: its open window is written early
        assert [r["changes"]["count"] for r in await _summaries(sh_auditor, closed)] == [3]
        [rec] = await _summaries(sh_auditor, still_open)
        assert rec["changes"]["count"] == 1 and rec["changes"]["closed_early"] is True
    finally:
        throttle.reset_local()
        login_audit.reset_local()


async def test_summaries_are_written_into_the_account_tenant_only(from_address, audit_clock):
    from core.accounts import login_audit
    from core.tenancy.services import get_tenant

    attacker = await from_address("198.51.100.145")
    name = unique("ghost-tenant")
    await _try(attacker, name, "tenant-0-xxxx", tenant="shanghai")
    await audit_clock.flush_after_window()
    sh, bj = await get_tenant(code="shanghai"), await get_tenant(code="beijing")
    from core.context import tenant_scope
    from core.dbutil import raw

    for tenant, expected in ((sh, 1), (bj, 0)):
        with tenant_scope(tenant):
            rows = await raw("SELECT count(*) AS n FROM audit_record WHERE tenant_id = {} AND actor_name = {}",
                             tenant.id, name)
        assert rows[0]["n"] == expected
    assert login_audit.mask_address("not-an-ip") == "-"


async def test_the_login_audit_flush_is_a_cron_job_every_minute(from_address, sh_auditor, monkeypatch):
    from core.accounts import login_audit
    from core.jobs.worker import cron_job_list

    jobs = {j.name: j for j in cron_job_list()}
    job = jobs["accounts.cron.login_audit"]
    assert job.minute is None and job.second == 5
    # What the scheduler runs writes the closed windows (here: by the real clock, one window on).
    attacker = await from_address("198.51.100.147")
    name = unique("ghost-cron")
    await _try(attacker, name, "cron-0-xxxx", tenant="shanghai")
    later = login_audit.clock() + login_audit.throttle.get_settings().login_lock_seconds + 10
    monkeypatch.setattr(login_audit, "clock", lambda: later)
    assert await job.coroutine({}) >= 1
    assert [r["changes"]["count"] for r in await _summaries(sh_auditor, name)] == [1]
