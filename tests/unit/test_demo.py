"""The demo generator's values are valid and deterministic (core.demo)."""

from __future__ import annotations

import datetime as dt

from core import demo
from core.members.personal import canonical_id_number, canonical_phone, id_facts
from core.pii.phone import phone_kind


def test_generated_id_numbers_pass_gb11643_with_the_given_area_birth_and_sex():
    born = dt.date(1984, 2, 29)
    for seq in (0, 1, 250, 499):
        for male in (True, False):
            value = demo.id_number("350102", born, seq, male)
            assert canonical_id_number(value) == value
            sex, birth = id_facts(value)
            assert value.startswith("350102") and birth == born
            assert sex == ("M" if male else "F")


def test_generated_mobiles_are_valid_mainland_mobiles():
    rng = demo._rng("t", "phones")
    for _ in range(200):
        assert phone_kind(canonical_phone(demo.mobile(rng))) == "mobile"


class _Tenant:
    code = "fujian"
    name = "福建省总工会"


def test_member_values_are_deterministic_and_use_the_provinces_area_codes():
    units = {1: {"id": 1, "level": "province", "name": "福建省总工会", "path": "/1/", "area_code": "350000"},
             2: {"id": 2, "level": "city", "name": "厦门市总工会", "path": "/1/2/", "area_code": "350200"},
             3: {"id": 3, "level": "county", "name": "思明区总工会", "path": "/1/2/3/", "area_code": "350203"},
             4: {"id": 4, "level": "grassroots", "name": "某工会", "path": "/1/2/3/4/", "area_code": None}}
    areas = ["350200", "350203"]
    today = dt.date(2026, 6, 1)
    tags = {"new_employment", "model_worker", "outdoor_worker"}
    runs = [[demo._member_values(_Tenant(), n, units[4], units, areas, today, tags) for n in range(100)] for _ in range(2)]
    assert runs[0] == runs[1]
    for v in runs[0]:
        assert v["id_number"][:6] in areas and canonical_id_number(v["id_number"]) == v["id_number"]
        born = demo.values_birth(v)
        assert 20 <= (today - born).days // 365 <= 58 and born < v["joined_on"] <= today
        if "new_employment" in v["tags"]:
            assert v["phone"] and phone_kind(canonical_phone(v["phone"])) == "mobile"
        assert "厦门" in v["employer"]
    assert len({v["id_number"] for v in runs[0]}) == 100


def test_the_window_always_holds_a_january():
    for month in range(1, 13):
        months = demo._months(dt.date(2026, month, 15), demo.WINDOW_MONTHS)
        assert len(months) == 13 and months[-1] == (2026, month) and any(m == 1 for _, m in months)
        assert demo._months(dt.date(*months[0], 10), -demo.WINDOW_MONTHS) == months
