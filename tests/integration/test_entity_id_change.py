"""A user renaming an entity's ID: it keeps working under the new one.

Since Home Assistant 2026.11 an entity is renamed in place when its class handles
``async_entity_id_changed``; a custom integration's entity class with add/remove hooks
of its own and without it is removed and added again (until 2027.11). Ours opt in.
"""

from __future__ import annotations

import importlib
import pkgutil

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity as entity_helper, entity_registry as er
from homeassistant.helpers.entity import Entity
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.ipro_nvr as package
from custom_components.ipro_nvr.const import DOMAIN
from nvr_simulator.server import RunningSimulator

# Home Assistant 2026.11's list (helpers/entity.py, _ADD_REMOVE_METHODS).
ADD_REMOVE_HOOKS = (
    "async_prepare_to_add_to_hass",
    "async_added_to_hass",
    "async_will_remove_from_hass",
)


def _requires_readd(entity_class: type[Entity]) -> bool:
    """Home Assistant 2026.11's rule (``_entity_class_requires_readd``), for older lines."""
    ours = [c for c in entity_class.__mro__ if not c.__module__.startswith("homeassistant.")]
    hook_owners = [c for c in ours if "async_entity_id_changed" in c.__dict__]
    return any(
        any(hook in c.__dict__ for hook in ADD_REMOVE_HOOKS)
        and not any(issubclass(owner, c) for owner in hook_owners)
        for c in ours
    )


def _entity_classes() -> set[type[Entity]]:
    for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        importlib.import_module(module.name)
    found: set[type[Entity]] = set()
    pending = list(Entity.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith(package.__name__):
            found.add(cls)
    return found


def test_every_entity_class_is_renamed_in_place() -> None:
    """No entity class of ours falls back to being removed and added again."""
    requires_readd = getattr(entity_helper, "_entity_class_requires_readd", _requires_readd)
    classes = _entity_classes()
    assert len(classes) >= 10  # the walk found the platforms' classes
    assert sorted(c.__qualname__ for c in classes if requires_readd(c)) == []


async def test_a_renamed_problem_sensor_keeps_following_the_logs(
    hass: HomeAssistant, simulator: RunningSimulator, loaded_entry: MockConfigEntry
) -> None:
    """The problem sensor listens to the log poll too; that survives a new entity ID."""
    registry = er.async_get(hass)
    old_id = registry.async_get_entity_id(
        "binary_sensor", DOMAIN, f"{loaded_entry.entry_id}_problem"
    )
    assert old_id is not None
    registry.async_update_entity(old_id, new_entity_id="binary_sensor.recorder_trouble")
    await hass.async_block_till_done()
    assert hass.states.get(old_id) is None
    renamed = hass.states.get("binary_sensor.recorder_trouble")
    assert renamed is not None
    assert renamed.state == STATE_ON  # camera 4 disconnected, disk MAIN-2 in error

    simulator.simulator.channel_states[4] = 1
    await loaded_entry.runtime_data.coordinator.async_refresh()
    simulator.simulator.add_error("MAIN-2 HDD RECOVERED")
    await loaded_entry.runtime_data.log_coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.recorder_trouble").state == STATE_OFF  # type: ignore[union-attr]
