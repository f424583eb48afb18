"""Disk and UID sensors of the recorder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfInformation
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Disk, RecordedTime
from .coordinator import NvrStatus, NvrStatusCoordinator
from .data import IproNvrConfigEntry
from .entity import NvrEntity

PARALLEL_UPDATES = 0

type SensorValue = int | float | datetime | None


@dataclass(frozen=True, kw_only=True)
class DiskSensorDescription(SensorEntityDescription):
    """A sensor of one disk slot."""

    value_fn: Callable[[Disk], SensorValue]


@dataclass(frozen=True, kw_only=True)
class RecorderSensorDescription(SensorEntityDescription):
    """A sensor of the recorder as a whole."""

    value_fn: Callable[[NvrStatus], SensorValue]


def _round1(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# Sizes: the recorder reports whole gigabytes of multi-terabyte disks; shown in TB
# with two decimals (10 GB steps), "3.73 TB" rather than "3726 GB". The entity's
# settings can still show GB.
DISK_SENSORS: tuple[DiskSensorDescription, ...] = (
    DiskSensorDescription(
        key="disk_capacity",
        translation_key="disk_capacity",
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.GIGABYTES,
        suggested_unit_of_measurement=UnitOfInformation.TERABYTES,
        suggested_display_precision=2,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda disk: disk.capacity_gb,
    ),
    DiskSensorDescription(
        key="disk_remaining",
        translation_key="disk_remaining",
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.GIGABYTES,
        suggested_unit_of_measurement=UnitOfInformation.TERABYTES,
        suggested_display_precision=2,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda disk: disk.remaining_gb,
    ),
    DiskSensorDescription(
        key="disk_used",
        translation_key="disk_used",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda disk: _round1(disk.used_percent),
    ),
    DiskSensorDescription(
        key="disk_oldest",
        translation_key="disk_oldest",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda disk: disk.oldest,
    ),
    DiskSensorDescription(
        key="disk_newest",
        translation_key="disk_newest",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda disk: disk.newest,
    ),
)


def _total_used(recorded: RecordedTime) -> float | None:
    capacity = recorded.total_capacity_gb
    if not capacity:
        return None
    return round(100 * (capacity - recorded.total_remaining_gb) / capacity, 1)


RECORDER_SENSORS: tuple[RecorderSensorDescription, ...] = (
    RecorderSensorDescription(
        key="total_capacity",
        translation_key="total_capacity",
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.GIGABYTES,
        suggested_unit_of_measurement=UnitOfInformation.TERABYTES,
        suggested_display_precision=2,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.recorded.total_capacity_gb,
    ),
    RecorderSensorDescription(
        key="total_remaining",
        translation_key="total_remaining",
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.GIGABYTES,
        suggested_unit_of_measurement=UnitOfInformation.TERABYTES,
        suggested_display_precision=2,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda data: data.recorded.total_remaining_gb,
    ),
    RecorderSensorDescription(
        key="total_used",
        translation_key="total_used",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda data: _total_used(data.recorded),
    ),
    RecorderSensorDescription(
        key="uids_in_use",
        translation_key="uids_in_use",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.status.used_uid,
    ),
    RecorderSensorDescription(
        key="uid_limit",
        translation_key="uid_limit",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda data: data.status.max_uid,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IproNvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the recorder sensors, and disk sensors for every slot holding a disk."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(RecorderSensor(coordinator, d) for d in RECORDER_SENSORS)
    known_slots: set[str] = set()

    @callback
    def _add_new_disks() -> None:
        new = [
            d.slot
            for d in coordinator.data.recorded.disks
            if d.present and d.slot not in known_slots
        ]
        known_slots.update(new)
        async_add_entities(
            DiskSensor(coordinator, slot, description)
            for slot in new
            for description in DISK_SENSORS
        )

    _add_new_disks()
    entry.async_on_unload(coordinator.async_add_listener(_add_new_disks))


class RecorderSensor(NvrEntity, SensorEntity):
    """A recorder-wide sensor."""

    entity_description: RecorderSensorDescription

    def __init__(
        self, coordinator: NvrStatusCoordinator, description: RecorderSensorDescription
    ) -> None:
        """Initialise from its description."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> SensorValue:
        """Value from the latest poll."""
        return self.entity_description.value_fn(self.coordinator.data)


class DiskSensor(NvrEntity, SensorEntity):
    """A sensor of one disk slot (``MAIN-1``, ``EXT2-3``, ...)."""

    entity_description: DiskSensorDescription

    def __init__(
        self, coordinator: NvrStatusCoordinator, slot: str, description: DiskSensorDescription
    ) -> None:
        """Initialise for ``slot``."""
        super().__init__(coordinator, f"{slot.lower()}_{description.key}")
        self.entity_description = description
        self.slot = slot
        self._attr_translation_placeholders = {"slot": slot}

    @property
    def _disk(self) -> Disk | None:
        return next((d for d in self.coordinator.data.recorded.disks if d.slot == self.slot), None)

    @property
    def available(self) -> bool:
        """Unavailable when the disk was removed from its slot."""
        disk = self._disk
        return super().available and disk is not None and disk.present

    @property
    def native_value(self) -> SensorValue:
        """Value from the latest poll."""
        disk = self._disk
        return None if disk is None else self.entity_description.value_fn(disk)

    @property
    def extra_state_attributes(self) -> dict[str, list[str]] | None:
        """The recorder's flags for the disk, such as ``R``."""
        disk = self._disk
        if disk is None or not disk.flags or self.entity_description.key != "disk_capacity":
            return None
        return {"flags": list(disk.flags)}
