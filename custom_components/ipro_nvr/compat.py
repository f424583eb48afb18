"""What differs between the Home Assistant lines this integration runs on.

The suite runs on the oldest supported line (2026.2, requirements_test.txt) and the
newest (requirements_newest.txt). Since 2026.8 the device registry ties a device to one
config entry: ``async_get_device`` is deprecated for ``async_get_device_by_identifier``
(scoped to a config entry), and a device names the device it is connected through by
``via_device_id`` (that device's id) instead of ``via_device`` (its identifier). Each
helper uses the current form where the running Home Assistant has it (feature detection,
not version numbers), and the older one otherwise.

Since 2026.11 an entity whose ID the user changes is renamed in place when its class
says it handles that (``async_entity_id_changed``); a custom integration's entity with
its own add/remove hooks and without that method is removed and added again, a
compatibility path that ends in 2027.11. Our entities key nothing on their entity ID, so
they opt in: their hook calls :func:`entity_id_changed`, which runs the base classes'
hook where the running line has one.
"""

from __future__ import annotations

from typing import Any, cast

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

# 2026.8 and later: DeviceInfo links a device to its parent by the parent's device id.
DEVICE_INFO_HAS_VIA_DEVICE_ID = "via_device_id" in dr.DeviceInfo.__annotations__


def device_by_identifier(
    hass: HomeAssistant, identifier: tuple[str, str], config_entry_id: str
) -> dr.DeviceEntry | None:
    """The device of ``config_entry_id`` with ``identifier``, if registered."""
    registry = dr.async_get(hass)
    lookup = getattr(registry, "async_get_device_by_identifier", None)
    if lookup is not None:
        return cast("dr.DeviceEntry | None", lookup(identifier, config_entry_id))
    return registry.async_get_device(identifiers={identifier})


def via_device_info(
    hass: HomeAssistant, parent: tuple[str, str], config_entry_id: str
) -> dr.DeviceInfo:
    """Device info fields that connect a device through ``parent`` (an identifier).

    On the newest line the parent must be registered already (it is: setup creates the
    recorder's device before any platform); an unknown parent links nothing.
    """
    fields: dict[str, Any] = {}
    if not DEVICE_INFO_HAS_VIA_DEVICE_ID:
        fields["via_device"] = parent
    elif (device := device_by_identifier(hass, parent, config_entry_id)) is not None:
        fields["via_device_id"] = device.id
    return cast("dr.DeviceInfo", fields)


def entity_id_changed(entity_super: object, old_entity_id: str) -> None:
    """Run the base classes' ``async_entity_id_changed`` (2026.11+); nothing before.

    ``entity_super`` is the caller's ``super()``. Called only by Home Assistant lines
    that have the hook, so the older lines never get here.
    """
    base_hook = getattr(entity_super, "async_entity_id_changed", None)
    if base_hook is not None:
        base_hook(old_entity_id)
