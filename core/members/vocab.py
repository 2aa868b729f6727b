"""Fixed vocabularies of the members domain: work statuses, membership states, household relations
and the member tags (core tags plus the ones plugins register through ``register_member_tags``).

Codes are stable ASCII (stored, and GraphQL enum values); labels are the Chinese words unions use,
which the roster import accepts too.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from core.context import TenantContext
from core.interface import TagInfo

# 工作状态, as the national hardship archive (困难职工档案) records it.
WORK_STATUSES: dict[str, str] = {
    "on_duty": "在岗",
    "laid_off": "下岗",
    "unemployed": "失业",
    "retired": "退休",
    "sick_leave": "病休",
    "early_retired": "内退",
    "migrant_worker": "农民工",
}
WORK_STATUS_BY_LABEL: dict[str, str] = {label: code for code, label in WORK_STATUSES.items()}
DEFAULT_WORK_STATUS = "on_duty"

# Membership states. "transferring" while a 会籍转移 awaits both unions' approval.
STATES: dict[str, str] = {
    "joined": "在会",
    "transferring": "会籍转移中",
    "left": "已退会",
    "deceased": "已去世",
}

RELATIONS: dict[str, str] = {
    "spouse": "配偶",
    "child": "子女",
    "parent": "父母",
    "grandparent": "祖父母/外祖父母",
    "grandchild": "孙子女/外孙子女",
    "sibling": "兄弟姐妹",
    "other": "其他",
}

# Tags every tenant has (劳模, 新就业形态, 户外劳动者: groups every province serves). The built-in plugin registers
# some of the same codes; a plugin's definition wins, these fill the gaps.
CORE_TAGS: tuple[TagInfo, ...] = (
    TagInfo("model_worker", "劳动模范", "各级劳动模范、先进工作者"),
    TagInfo("new_employment", "新就业形态劳动者", "快递员、外卖配送员、网约车司机、货车司机等"),
    TagInfo("outdoor_worker", "户外劳动者", "环卫工人、交通警察、建筑工人等户外作业人员"),
)
# Short forms people type in rosters.
TAG_ALIASES: dict[str, str] = {
    "劳模": "model_worker",
    "新就业形态": "new_employment",
    "户外": "outdoor_worker",
    "户外劳动者": "outdoor_worker",
    "户外工作者": "outdoor_worker",
}

MAX_TAGS = 20


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


@dataclass(frozen=True)
class TagVocabulary:
    """The tags one tenant may use: code -> TagInfo, plus a lookup accepting codes, labels and aliases."""

    tags: Mapping[str, TagInfo]
    lookup: Mapping[str, str]

    def resolve(self, text: str) -> str | None:
        return self.lookup.get(_key(text))


_cache: dict[tuple[int, int, int, tuple[str, ...]], TagVocabulary] = {}
_lock = threading.Lock()


def tag_vocabulary(tenant: TenantContext) -> TagVocabulary:
    """Core tags plus every enabled plugin's ``register_member_tags`` (cached per tenant settings)."""
    from core.plugins import hooks_for

    # settings_version: settings now change at run time, and id() alone may be reused by the new mapping.
    key = (tenant.id, tenant.settings_version, id(tenant.settings), tenant.plugins)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    tags: dict[str, TagInfo] = {}
    for batch in hooks_for(tenant).register_member_tags(tenant=tenant):
        for tag in batch or ():
            tags.setdefault(tag.code, tag)  # LIFO: province plugins answer before the built-in one
    for tag in CORE_TAGS:
        tags.setdefault(tag.code, tag)
    lookup: dict[str, str] = {}
    for alias, code in TAG_ALIASES.items():
        if code in tags:
            lookup[_key(alias)] = code
    for code, tag in tags.items():
        lookup[_key(tag.label_zh)] = code
        lookup[_key(code)] = code
    vocab = TagVocabulary(tags=tags, lookup=lookup)
    with _lock:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = vocab
    return vocab
