"""Fixtures for the advice tests: example facts and a fake OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from advice_helpers import FakeChatServer, make_fr_facts, make_us_facts


@pytest.fixture(scope="session")
def chat_server() -> Iterator[FakeChatServer]:
    with FakeChatServer() as server:
        yield server


@pytest.fixture
def fr_facts():
    """Maize in France, one metric product, a day of forecast with a morning window."""
    return make_fr_facts()


@pytest.fixture
def us_facts():
    """Soybean in Iowa: glyphosate + dicamba (downwind buffer), a forecast with an afternoon window."""
    return make_us_facts()
