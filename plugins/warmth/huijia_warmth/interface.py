"""What the warmth capability hands to the implementations of its hooks (province plugins, and a
hardship capability answering ``warmth_hardship_households``). Plain frozen dataclasses: an
implementation reads their attributes and never needs to import this module."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# Campaign kinds and their Chinese labels (the national calendar: 元旦春节 runs from December to the
# Lantern Festival, 夏送清凉 in summer, 金秋助学 at the school year's start).
KINDS: dict[str, str] = {"spring_festival": "元旦春节", "summer_cool": "夏送清凉", "autumn_study": "金秋助学"}
FESTIVAL_KINDS = frozenset({"spring_festival"})


@dataclass(frozen=True)
class TargetGroup:
    """A group a campaign can target. Province plugins register more through campaign_target_groups."""

    code: str
    label_zh: str
    # True when the group counts households (one benefit per household), not persons.
    per_household: bool = False


BUILTIN_GROUPS: tuple[TargetGroup, ...] = (
    TargetGroup("hardship_household", "建档困难职工家庭", per_household=True),
    TargetGroup("holiday_frontline", "节日坚守一线职工"),
    TargetGroup("new_form", "新就业形态劳动者和户外劳动者"),
    TargetGroup("work_injured", "工伤职工"),
    TargetGroup("model_worker", "劳动模范"),
    TargetGroup("unpaid_6m", "六个月以上未领工资职工"),
    TargetGroup("off_work_6m", "停工六个月以上职工"),
)


@dataclass(frozen=True)
class CampaignInfo:
    """The campaign a hook is asked about."""

    id: int
    kind: str
    name: str
    starts_on: dt.date
    ends_on: dt.date
    org_unit_id: int
    groups: tuple[str, ...]
    # The campaign's own cash amount per group (fen); a group left at 0 is absent.
    amounts_fen: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """A possible beneficiary: a member (and household) with the facts targeting decides on.

    ``facts`` holds the group evidence the capability gathered (e.g. ``{"months_unpaid": 7}``);
    ``region_code`` is the area code of the candidate's union, for rules that differ by county.
    """

    member_id: int | None
    household_id: int | None
    org_unit_id: int
    region_code: str | None
    group: str
    facts: dict[str, int | str | bool] = field(default_factory=dict)


@dataclass(frozen=True)
class HardshipHousehold:
    """An archived hardship household, as a hardship capability reports it through
    warmth_hardship_households."""

    household_id: int
    member_id: int | None
    org_unit_id: int
