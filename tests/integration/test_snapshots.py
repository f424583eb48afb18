"""Entity states and diagnostics pinned with syrupy, on a recorder with a frozen calendar."""

from __future__ import annotations

import datetime as dt

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.ipro_nvr.const import DOMAIN
from custom_components.ipro_nvr.diagnostics import async_get_config_entry_diagnostics
from custom_components.ipro_nvr.live.picture_clock import (
    ATTR_CAMERA_CLOCK_OFFSET,
    ATTR_CAMERA_TIME,
    ATTR_FRAME_RATE,
    ATTR_RECORDER_TIME,
)
from nvr_simulator import FakeWallClock, SimulatorConfig
from tests.compat import home_assistant_snapshot

FROZEN = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def sim_config(sim_config: SimulatorConfig) -> SimulatorConfig:
    """Four cameras and a recorder calendar that does not move."""
    sim_config.cameras = 4
    sim_config.wall_clock = FakeWallClock(FROZEN)
    return sim_config


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Home Assistant's snapshot format and folder on either line."""
    return home_assistant_snapshot(snapshot)


# A camera entity's access token (also in its picture URL) is new at every start.
_VOLATILE = ("access_token", "entity_picture")
# A camera's picture information exists once its first live picture came (the
# snapshots fetched after setup, in the background): present or not by timing.
_PICTURE_ATTRIBUTES = (
    ATTR_RECORDER_TIME,
    ATTR_CAMERA_TIME,
    ATTR_FRAME_RATE,
    ATTR_CAMERA_CLOCK_OFFSET,
)


def _stable(attributes: dict[str, object]) -> dict[str, object]:
    # str(): the newest line keys state attributes by StrEnum members (same values).
    return {
        str(k): "<volatile>" if k in _VOLATILE else v
        for k, v in attributes.items()
        if k not in _PICTURE_ATTRIBUTES
    }


async def test_entity_states(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    """Every entity of the recorder and its channels, with state and attributes."""
    registry = er.async_get(hass)
    entries = sorted(
        er.async_entries_for_config_entry(registry, loaded_entry.entry_id),
        key=lambda e: e.unique_id,
    )
    states = {}
    for entry in entries:
        key = entry.unique_id.removeprefix(f"{loaded_entry.entry_id}_")
        state = hass.states.get(entry.entity_id)
        states[key] = {
            "entity_id": entry.entity_id,
            "disabled": entry.disabled_by is not None,
            "category": entry.entity_category,
            "state": None if state is None else state.state,
            "attributes": None if state is None else _stable(dict(state.attributes)),
        }
    assert states == snapshot


async def test_diagnostics(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    """Diagnostics of a recorder; the client's live timings are checked apart."""
    diagnostics = await async_get_config_entry_diagnostics(hass, loaded_entry)
    client = diagnostics.pop("client")
    # Cameras whose first pictures came already (background snapshots): checked apart.
    pictures = diagnostics.pop("live_pictures")
    assert set(pictures) <= {"1", "2", "3"}
    assert all(picture["frame_rate"] == 10 for picture in pictures.values())
    assert client["scheduler"]
    assert client["session"]["uid_budget"] == 5  # command, live, JPEG, 2 playback
    # The simulator listens on an ephemeral port.
    assert diagnostics["entry"]["data"].pop("port") > 0
    assert diagnostics == snapshot
    assert loaded_entry.domain == DOMAIN
