"""Validation of one member record, shared by the GraphQL mutations and the roster import.

``clean_member`` turns raw values (GraphQL input or roster cells) into a ``CleanMember`` or a list of
``Problem``s, each naming its field with a Chinese message that never quotes the personal value.
``plugin_problems`` then runs the tenant's ``member_validate`` hooks (the province rules) on the
clean record. Everything here is synchronous and pure, and ``RowContext`` is picklable, so the import
can run it in worker processes.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.context import TenantContext
from core.errors import DomainError, DomainErrors, ErrorCode
from core.interface import MemberInfo
from core.members.personal import canonical_id_number, canonical_phone, id_facts, name_key
from core.members.vocab import (
    DEFAULT_WORK_STATUS,
    MAX_TAGS,
    WORK_STATUS_BY_LABEL,
    WORK_STATUSES,
    TagVocabulary,
)
from core.pii import IdNumberError, PhoneError

# field key -> (Chinese column label, GraphQL input field)
FIELDS: dict[str, tuple[str, str]] = {
    "name": ("姓名", "name"),
    "id_number": ("身份证号码", "idNumber"),
    "phone": ("手机号码", "phone"),
    "org_unit": ("所属工会", "orgUnitId"),
    "employer": ("工作单位", "employer"),
    "work_status": ("工作状态", "workStatus"),
    "tags": ("会员标签", "tags"),
    "joined_on": ("入会日期", "joinedOn"),
    "row": ("", ""),
}

# Problem codes (stored in import error reports; mapped to API ErrorCodes below).
REQUIRED, INVALID, CHECKSUM, NOT_ALLOWED = "required", "invalid", "checksum", "not_allowed"
DUPLICATE, NOT_FOUND, FORBIDDEN, CONFLICT, STATE = "duplicate", "not_found", "forbidden", "conflict", "state"
_API_CODES = {DUPLICATE: ErrorCode.DUPLICATE, NOT_FOUND: ErrorCode.NOT_FOUND, FORBIDDEN: ErrorCode.FORBIDDEN,
              CONFLICT: ErrorCode.CONFLICT, STATE: ErrorCode.INVALID_STATE}

# MemberInfo field (what a plugin names) -> our field key.
_PLUGIN_FIELDS = {"id_number": "id_number", "birth_date": "id_number", "phone": "phone", "tags": "tags",
                  "name": "name", "org_unit_id": "org_unit", "region_code": "org_unit",
                  "work_status": "work_status", "joined_on": "joined_on"}

MAX_NAME = 50
MAX_EMPLOYER = 200
_TAG_SPLIT = re.compile(r"[,，、;；|/\s]+")
_DATE_FORMS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    code: str
    message: str  # Chinese, for people; never contains the rejected personal value

    @property
    def column(self) -> str:
        return FIELDS.get(self.field, ("", ""))[0]


@dataclass(frozen=True, slots=True)
class UnitInfo:
    id: int
    code: str
    name: str
    level: str
    active: bool
    path: str
    region_code: str | None  # the unit's 民政 area code, else its nearest ancestor's


@dataclass
class UnitDirectory:
    by_id: dict[int, UnitInfo]
    by_code: dict[str, int]
    by_name: dict[str, list[int]]

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> UnitDirectory:
        rows = list(rows)
        area = {r["id"]: r["area_code"] for r in rows}
        by_id: dict[int, UnitInfo] = {}
        by_code: dict[str, int] = {}
        by_name: dict[str, list[int]] = {}
        for r in rows:
            chain = [int(p) for p in r["path"].strip("/").split("/") if p]
            region = next((area[i] for i in reversed(chain) if area.get(i)), None)
            by_id[r["id"]] = UnitInfo(r["id"], r["code"], r["name"], r["level"], bool(r["active"]), r["path"], region)
            by_code[r["code"]] = r["id"]
            by_name.setdefault(_norm(r["name"]), []).append(r["id"])
        return cls(by_id, by_code, by_name)

    def resolve(self, text: str) -> tuple[UnitInfo | None, Problem | None]:
        """A roster's 所属工会 cell: a unit code, or the exact unit name when that is unambiguous."""
        shown = text[:40]
        uid = self.by_code.get(text)
        if uid is None:
            ids = self.by_name.get(_norm(text), [])
            if len(ids) > 1:
                return None, Problem("org_unit", INVALID, f"工会名称「{shown}」对应多个单位，请改填单位代码")
            uid = ids[0] if ids else None
        if uid is None:
            return None, Problem("org_unit", NOT_FOUND, f"本省（市）没有代码或名称为「{shown}」的工会组织")
        return self.by_id[uid], None


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


@dataclass
class RowContext:
    """What validating a row needs. Picklable, for worker processes."""

    tenant: TenantContext
    units: UnitDirectory
    scope_paths: tuple[str, ...] | None  # subtrees the actor may write to; None = no restriction
    tags: TagVocabulary
    today: dt.date
    run_plugins: bool = True


@dataclass(slots=True)
class CleanMember:
    name: str
    name_search: str
    id_number: str  # canonical 18 characters
    gender: str
    birth_date: dt.date
    phone: str | None  # canonical
    org_unit_id: int
    employer: str
    work_status: str  # code
    tags: tuple[str, ...]
    joined_on: dt.date | None
    region_code: str | None = None
    given: tuple[str, ...] = ()  # optional fields that had a value (an import leaves the others as they are)


def unit_problem(unit: UnitInfo, scope_paths: Sequence[str] | None) -> Problem | None:
    if unit.level != "grassroots":
        return Problem("org_unit", NOT_ALLOWED, f"「{unit.name}」不是基层工会：会员须隶属基层工会")
    if not unit.active:
        return Problem("org_unit", NOT_ALLOWED, f"「{unit.name}」已撤销，不能接收会员")
    if scope_paths is not None and not any(unit.path.startswith(p) for p in scope_paths):
        return Problem("org_unit", FORBIDDEN, f"您无权管理「{unit.name}」的会员")
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\ufff9-\ufffb]")
_LETTER = re.compile(r"[^\W\d_]")
_date_cache: dict[str, dt.date | None] = {}


def _text(value: Any) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _clean_name(value: Any, problems: list[Problem]) -> str:
    name = _text(value)
    if not name:
        problems.append(Problem("name", REQUIRED, "姓名不能为空"))
    elif len(name) > MAX_NAME:
        problems.append(Problem("name", INVALID, f"姓名不能超过{MAX_NAME}个字符"))
    elif _CONTROL.search(name):
        problems.append(Problem("name", INVALID, "姓名含有不可见的控制字符"))
    elif not _LETTER.search(name):
        problems.append(Problem("name", INVALID, "姓名应包含文字，不能只有数字或符号"))
    return name


def parse_date(value: Any) -> dt.date | None:
    """A date cell as unions type it: 2024-03-01, 2024/3/1, 2024年3月1日, 20240301, or an Excel date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    try:
        return _date_cache[text]
    except KeyError:
        pass
    found = None
    for pattern in _DATE_FORMS:
        m = pattern.fullmatch(text)
        if m:
            try:
                found = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                found = None
            break
    if len(_date_cache) < 50_000:
        _date_cache[text] = found
    return found


def clean_member(values: Mapping[str, Any], ctx: RowContext, *, unit: UnitInfo | None = None,
                 require_unit: bool = True) -> tuple[CleanMember | None, list[Problem]]:
    """Check one record. ``values`` holds raw values by field key; the org unit comes either
    resolved (``unit``) or as the text of a roster cell (``values["org_unit"]``)."""
    problems: list[Problem] = []
    name = _clean_name(values.get("name"), problems)

    raw_id = values.get("id_number")
    id_number = gender = born = None
    if isinstance(raw_id, (int, float)) and not isinstance(raw_id, bool):
        problems.append(Problem("id_number", INVALID,
                                "身份证号码被存成了数字，末几位可能已丢失：请把该列设为文本格式后重新填写"))
    else:
        text = _text(raw_id)
        if not text:
            problems.append(Problem("id_number", REQUIRED, "身份证号码不能为空"))
        else:
            try:
                id_number = canonical_id_number(text, today=ctx.today)
                gender, born = id_facts(id_number)
            except IdNumberError as exc:
                problems.append(Problem("id_number", CHECKSUM if exc.code == "ID_CHECKSUM" else INVALID, exc.message_zh))

    phone = None
    raw_phone = _text(values.get("phone"))
    if raw_phone:
        try:
            phone = canonical_phone(raw_phone)
        except PhoneError as exc:
            problems.append(Problem("phone", INVALID, exc.message_zh))

    if unit is None and require_unit:
        text = _text(values.get("org_unit"))
        if not text:
            problems.append(Problem("org_unit", REQUIRED, "所属工会不能为空"))
        else:
            unit, problem = ctx.units.resolve(text)
            if problem:
                problems.append(problem)
    if unit is not None:
        problem = unit_problem(unit, ctx.scope_paths)
        if problem:
            problems.append(problem)

    employer = _text(values.get("employer"))
    if len(employer) > MAX_EMPLOYER:
        problems.append(Problem("employer", INVALID, f"工作单位不能超过{MAX_EMPLOYER}个字符"))
    elif _CONTROL.search(employer):
        problems.append(Problem("employer", INVALID, "工作单位含有不可见的控制字符"))

    status_text = _text(values.get("work_status"))
    work_status = DEFAULT_WORK_STATUS
    if status_text:
        found = WORK_STATUS_BY_LABEL.get(status_text) or (status_text.lower() if status_text.lower() in WORK_STATUSES else None)
        if found is None:
            problems.append(Problem("work_status", INVALID, "工作状态应为：" + "、".join(WORK_STATUSES.values())))
        else:
            work_status = found

    raw_tags = values.get("tags")
    if not raw_tags:
        items: list[str] = []
    elif isinstance(raw_tags, (list, tuple)):
        items = [_text(t) for t in raw_tags if _text(t)]
    else:
        items = [t for t in _TAG_SPLIT.split(_text(raw_tags)) if t]
    tags: list[str] = []
    if len(items) > MAX_TAGS:
        problems.append(Problem("tags", INVALID, f"会员标签不能超过{MAX_TAGS}个"))
    else:
        for item in items:
            code = ctx.tags.resolve(item)
            if code is None:
                problems.append(Problem("tags", INVALID, f"未知的会员标签「{item[:20]}」"))
            elif code not in tags:
                tags.append(code)

    joined_raw = values.get("joined_on")
    joined_on = None
    if joined_raw not in (None, ""):
        joined_on = parse_date(joined_raw)
        if joined_on is None:
            problems.append(Problem("joined_on", INVALID, "入会日期格式不正确，应为如 2024-03-01 的日期"))
        elif joined_on > ctx.today:
            problems.append(Problem("joined_on", INVALID, "入会日期不能晚于今天"))
        elif born is not None and joined_on < born:
            problems.append(Problem("joined_on", INVALID, "入会日期早于出生日期"))

    if problems:
        return None, problems
    assert id_number is not None and gender is not None and born is not None and unit is not None
    return CleanMember(
        name=name, name_search=name_key(name), id_number=id_number, gender=gender, birth_date=born,
        phone=phone, org_unit_id=unit.id, employer=employer, work_status=work_status, tags=tuple(tags),
        joined_on=joined_on, region_code=unit.region_code,
        given=tuple(f for f, v in (("phone", phone), ("employer", employer), ("work_status", status_text),
                                   ("tags", items), ("joined_on", joined_on)) if v),
    ), []


def member_info(m: CleanMember, member_id: int | None) -> MemberInfo:
    return MemberInfo(
        id=member_id, org_unit_id=m.org_unit_id, name=m.name, region_code=m.region_code, id_number=m.id_number,
        phone=m.phone, birth_date=m.birth_date, work_status=WORK_STATUSES[m.work_status], tags=m.tags,
        joined_on=m.joined_on,
    )


def plugin_problems(ctx: RowContext, m: CleanMember, member_id: int | None = None, hook: Any = None) -> list[Problem]:
    """The tenant's ``member_validate`` rules (built-in national rules plus enabled province plugins)."""
    if hook is None:
        from core.plugins import hooks_for

        hook = hooks_for(ctx.tenant).member_validate
    out: list[Problem] = []
    for batch in hook(tenant=ctx.tenant, member=member_info(m, member_id)):
        for p in batch or ():
            code = getattr(p.code, "value", str(p.code))
            out.append(Problem(_PLUGIN_FIELDS.get(p.field, "row"), code, str(p.message_zh)[:200]))
    return out


def raise_problems(problems: Sequence[Problem]) -> None:
    """Turn problems into the API's DomainErrors (every field at once)."""
    if not problems:
        return
    errors = [DomainError(_API_CODES.get(p.code, ErrorCode.INVALID_INPUT), p.message,
                          FIELDS.get(p.field, ("", None))[1] or None, message_zh=p.message)
              for p in problems]
    raise DomainErrors(errors) if len(errors) > 1 else errors[0]
