"""The dish tests' shared set-up: each notes where the KITCHEN stream stood as it began."""

from __future__ import annotations

import pytest

from services.kitchen.tests.integration.dishes.dishes_api import mark_stream_start
from services.kitchen.tests.integration.harness import KitchenClient


@pytest.fixture(autouse=True)
async def stream_start(kitchen: KitchenClient) -> None:
    await mark_stream_start(kitchen)
