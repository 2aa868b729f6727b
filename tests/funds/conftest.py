"""Fixtures for the funds tests: Shanghai personas at the province root."""

from __future__ import annotations

import pytest

from tests.fixtures.api import Persona, persona


@pytest.fixture(scope="session")
async def sh_finance(api) -> Persona:
    return await persona(api, "shanghai", "finance")


@pytest.fixture(scope="session")
async def sh_approver(api) -> Persona:
    return await persona(api, "shanghai", "approver")


@pytest.fixture(scope="session")
async def sh_clerk_root(api) -> Persona:
    return await persona(api, "shanghai", "clerk")


@pytest.fixture(scope="session")
async def bj_finance(api) -> Persona:
    return await persona(api, "beijing", "finance")


@pytest.fixture(scope="session")
async def fj_finance(api) -> Persona:
    return await persona(api, "fujian", "finance")
