"""What differs between the Home Assistant lines the suite runs on, for the tests.

The integration's own differences are in ``custom_components/ipro_nvr/compat.py``.
"""

from __future__ import annotations

from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion


def home_assistant_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """``snapshot`` in Home Assistant's format, stored in ``snapshots/`` beside the test.

    The plugin's own ``snapshot`` fixture does this on the pinned line; on the newest one
    (syrupy 6) syrupy's fixture wins, which would store plain Amber snapshots under
    ``__snapshots__/`` and print state attribute names as enum members.
    """
    return snapshot.use_extension(HomeAssistantSnapshotExtension)
