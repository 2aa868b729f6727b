"""Frozen dataclasses the procurement capability hands to province plugins (they may import this module)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BidderInfo:
    """An organisation as the eligibility rules see it (no contact or personal data)."""

    org_id: int
    name: str
    credit_code: str
    service_areas: tuple[str, ...]
    has_own_union: bool
    score_bp: int


@dataclass(frozen=True, slots=True)
class CallInfo:
    """A call for proposals as the eligibility rules see it."""

    call_id: int
    org_unit_id: int
    category: str
    area_code: str
    budget_fen: int


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a bid is refused: an English message for the API and a Chinese one for the screen."""

    message: str
    message_zh: str


@dataclass(frozen=True, slots=True)
class Criterion:
    """One weighted scoring criterion; a call's criteria weigh 10,000 basis points together."""

    code: str
    label_zh: str
    weight_bp: int


# 江门's five criteria (创投 2019), weighed equally: the default when no province rule answers.
JIANGMEN_CRITERIA = (
    Criterion("targeting", "定位精准性", 2000),
    Criterion("breadth", "需求广泛性", 2000),
    Criterion("innovation", "方法创新性", 2000),
    Criterion("demonstration", "项目示范性", 2000),
    Criterion("professionalism", "实施专业性", 2000),
)
