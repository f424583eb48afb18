"""``strings.json``, ``services.yaml`` and ``icons.json`` in step with what the code uses.

Both ways: everything the code uses is translated (a missing key shows a raw key to a
person, or an untranslated error), and nothing is translated that the code no longer
uses (stale text nobody reviews). The keys come from the source (``code_scan``) and, where
only a running Home Assistant knows them (form fields, registered actions), from the
integration set up in a test instance.
"""

from __future__ import annotations

import inspect
from typing import Any

from homeassistant import config_entries
from homeassistant.components.event import EventEntity
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.ipro_nvr import event as event_platform
from custom_components.ipro_nvr.const import (
    CONF_CHANNELS,
    CONF_EVENT_SCAN_INTERVAL,
    CONF_LIVE_AUDIO,
    CONF_LIVE_CODEC,
    CONF_PER_CAMERA_CODECS,
    CONF_PRESET_COUNT,
    CONF_SCAN_INTERVAL,
    CONF_USE_HTTPS,
    CONF_VERIFY_SSL,
    DEFAULT_EVENT_SCAN_INTERVAL,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
)
from tests.validation.code_scan import KeyUse, PackageScan
from tests.validation.ha_rules import placeholders_of

# Where Home Assistant's entity metaclass keeps a class's ``_attr_translation_key``.
TRANSLATION_KEY_ATTR = "__attr_translation_key"
# Keys of an entity action's schema that are its target, not its fields.
TARGET_KEYS = {"entity_id", "device_id", "area_id", "floor_id", "label_id"}


def _used(uses: list[KeyUse]) -> set[str]:
    return {key for use in uses for key in use.keys or ()}


def _unresolved(uses: list[KeyUse]) -> list[str]:
    return [str(use.site) for use in uses if use.keys is None]


# -- flows -----------------------------------------------------------------------


@pytest.mark.parametrize("flow", ["config", "options"])
def test_flow_steps_errors_and_aborts_are_translated(
    scan: PackageScan, strings: dict[str, Any], flow: str
) -> None:
    """Each step shown, error and abort reason has text, and each text is used."""
    used = scan.flows()[flow]
    translated = strings.get(flow, {"step": {}})
    assert set(used.steps) == set(translated["step"])
    assert set(used.errors) == set(translated.get("error", {}))
    assert set(used.aborts) == set(translated.get("abort", {}))
    for step, passed in used.step_placeholders.items():
        text = " ".join(
            str(translated["step"][step].get(part, "")) for part in ("title", "description")
        )
        assert placeholders_of(text) <= passed, f"{flow} step {step}"


def _schema_fields(result: Any) -> set[str]:
    return {str(key.schema) for key in result["data_schema"].schema}


def _entry() -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="i-PRO NVR (192.0.2.1)",
        unique_id="192.0.2.1:80",
        data={
            CONF_HOST: "192.0.2.1",
            CONF_PORT: 80,
            CONF_USE_HTTPS: False,
            CONF_VERIFY_SSL: False,
            CONF_USERNAME: "admin",
            CONF_PASSWORD: "secret",
        },
        options={CONF_CHANNELS: [1, 2]},
    )


async def _forms(hass: HomeAssistant) -> dict[tuple[str, str], Any]:
    """The first form of every flow, shown before anything talks to a recorder."""
    entry = _entry()
    entry.add_to_hass(hass)
    options = await hass.config_entries.options.async_init(entry.entry_id)
    per_camera = await hass.config_entries.options.async_configure(
        options["flow_id"],
        {
            CONF_SCAN_INTERVAL: DEFAULT_SCAN_INTERVAL,
            CONF_EVENT_SCAN_INTERVAL: DEFAULT_EVENT_SCAN_INTERVAL,
            CONF_PRESET_COUNT: 8,
            CONF_LIVE_CODEC: "h264",
            CONF_PER_CAMERA_CODECS: True,
            CONF_LIVE_AUDIO: False,
        },
    )
    return {
        ("config", "user"): await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": config_entries.SOURCE_USER}
        ),
        ("config", "reauth_confirm"): await entry.start_reauth_flow(hass),
        ("config", "reconfigure"): await entry.start_reconfigure_flow(hass),
        ("options", "init"): await hass.config_entries.options.async_init(entry.entry_id),
        ("options", "camera_codecs"): per_camera,
    }


async def test_every_form_field_is_labelled(
    hass: HomeAssistant, enable_custom_integrations: None, strings: dict[str, Any]
) -> None:
    """The fields of each form are exactly the fields its step translates."""
    forms = await _forms(hass)
    for (flow, step), result in forms.items():
        assert result["step_id"] == step
        assert _schema_fields(result) == set(strings[flow]["step"][step]["data"]), step
    assert {step for flow, step in forms} == {
        step for flow in ("config", "options") for step in strings[flow]["step"]
    }


async def test_form_select_options_are_translated(
    hass: HomeAssistant, enable_custom_integrations: None, strings: dict[str, Any]
) -> None:
    """A select with a translation key has a text for each of its options."""
    checked = 0
    for result in (await _forms(hass)).values():
        for field in result["data_schema"].schema.values():
            if isinstance(field, selector.SelectSelector) and field.config.get("translation_key"):
                options = strings["selector"][field.config["translation_key"]]["options"]
                values = {o if isinstance(o, str) else o["value"] for o in field.config["options"]}
                assert values == set(options)
                checked += 1
    assert checked >= 1


# -- entities, devices, events ---------------------------------------------------


def test_entity_translation_keys_match(scan: PackageScan, strings: dict[str, Any]) -> None:
    """Every entity's translation key has a name, every translated entity exists."""
    platforms = set(strings.get("entity", {})) | {"camera"}
    used = scan.entity_keys(platforms)
    assert not [p for p in used if p.startswith("<")], "translation keys outside platforms"
    assert {p: _unresolved(u) for p, u in used.items() if _unresolved(u)} == {}
    assert {p: _used(u) for p, u in used.items()} == {
        p: set(keys) for p, keys in strings["entity"].items()
    }


def test_entity_name_placeholders_are_passed(scan: PackageScan, strings: dict[str, Any]) -> None:
    """An entity name with ``{slot}`` gets ``slot`` from its platform."""
    for platform, entities in strings["entity"].items():
        passed = scan.entity_placeholders(f"{platform}.py")
        for key, item in entities.items():
            assert placeholders_of(item.get("name", "")) <= passed, f"{platform}.{key}"


def test_event_types_are_translated(strings: dict[str, Any]) -> None:
    """Each event entity's event types have a text, and only those."""
    classes = [
        cls
        for _, cls in inspect.getmembers(event_platform, inspect.isclass)
        if issubclass(cls, EventEntity) and vars(cls).get(TRANSLATION_KEY_ATTR)
    ]
    assert len(classes) >= 3
    for cls in classes:
        key = vars(cls)[TRANSLATION_KEY_ATTR]
        states = strings["entity"]["event"][key]["state_attributes"]["event_type"]["state"]
        assert set(cls.event_type_choices) == set(states), key


def test_device_translation_keys_match(scan: PackageScan, strings: dict[str, Any]) -> None:
    """Translated device names: used keys exist, with the placeholders they need."""
    uses = scan.device_keys()
    assert _unresolved(uses) == []
    assert _used(uses) == set(strings.get("device", {}))
    for use in uses:
        for key in use.keys or ():
            assert placeholders_of(strings["device"][key]["name"]) <= (use.placeholders or set())


# -- exceptions and repair issues ---------------------------------------------------


def test_exception_keys_match(scan: PackageScan, strings: dict[str, Any]) -> None:
    """Each translated error raised has a message with the placeholders passed to it."""
    uses = scan.exception_keys()
    assert _unresolved(uses) == []
    messages = strings["exceptions"]
    assert _used(uses) == set(messages)
    for use in uses:
        for key in use.keys or ():
            wanted = placeholders_of(messages[key]["message"])
            assert wanted <= (use.placeholders or set()), f"{use.site} {key}"


def test_repair_issue_keys_match(scan: PackageScan, strings: dict[str, Any]) -> None:
    """Each repair issue raised has a title and description, and each text is used.

    Issue keys the scan cannot follow (passed through a table) count as used when their
    module spells them out, and the ``("key", {placeholders})`` pairs of that module must
    all be translated.
    """
    uses = scan.issue_keys()
    issues = set(strings.get("issues", {}))
    used = _used(uses)
    for use in uses:
        if use.keys is None:
            used |= scan.literals(use.site.path) & issues
            assert scan.key_placeholder_pairs(use.site.path) <= issues, use.site
    assert used == issues
    for use in uses:
        for key in use.keys or ():
            assert key in issues, f"{use.site} {key}"


def test_code_raises_no_untranslated_home_assistant_error(scan: PackageScan) -> None:
    """Every Home Assistant error the code builds is translated (exception-translations)."""
    assert scan.untranslated_exceptions() == []


# -- actions: registered, described, translated, with icons ---------------------------


def _fields(schema: Any) -> set[str]:
    """The field names of an action's schema (a dict, a Schema, or vol.All of them)."""
    if isinstance(schema, vol.All):
        return set().union(*(_fields(v) for v in schema.validators))
    if isinstance(schema, vol.Schema):
        return _fields(schema.schema)
    if isinstance(schema, dict):
        # vol.Remove: keys Home Assistant drops (the call's metadata), not fields.
        fields = {str(getattr(k, "schema", k)) for k in schema if not isinstance(k, vol.Remove)}
        return fields - TARGET_KEYS
    return set()


async def test_registered_actions_match_their_descriptions(
    hass: HomeAssistant,
    enable_custom_integrations: None,
    services_yaml: dict[str, Any],
    strings: dict[str, Any],
    icons: dict[str, Any],
) -> None:
    """services.yaml, strings.json and icons.json describe exactly the registered actions."""
    assert await async_setup_component(hass, DOMAIN, {})
    registered = hass.services.async_services_for_domain(DOMAIN)
    assert (
        set(registered) == set(services_yaml) == set(strings["services"]) == set(icons["services"])
    )
    for name, service in registered.items():
        described = set((services_yaml[name] or {}).get("fields", {}))
        assert _fields(service.schema) == described, name
        assert described == set(strings["services"][name].get("fields", {})), name
        assert "target" in (services_yaml[name] or {}), f"{name} is an entity action"


def test_action_select_options_are_translated(
    services_yaml: dict[str, Any], strings: dict[str, Any]
) -> None:
    """A select field with a translation key has a text for each option."""
    for name, spec in services_yaml.items():
        for field, field_spec in (spec or {}).get("fields", {}).items():
            select = (field_spec.get("selector") or {}).get("select") or {}
            if "translation_key" in select:
                options = strings["selector"][select["translation_key"]]["options"]
                assert {str(o) for o in select["options"]} == set(options), f"{name}.{field}"


def test_every_selector_text_is_used(
    scan: PackageScan, services_yaml: dict[str, Any], strings: dict[str, Any]
) -> None:
    """No selector text without a selector (in a form or an action) using it."""
    used = _used(scan.selector_keys())
    for spec in services_yaml.values():
        for field_spec in (spec or {}).get("fields", {}).values():
            select = (field_spec.get("selector") or {}).get("select") or {}
            if "translation_key" in select:
                used.add(select["translation_key"])
    assert used == set(strings.get("selector", {}))


def test_every_translated_entity_has_an_icon(
    strings: dict[str, Any], icons: dict[str, Any]
) -> None:
    """icons.json has an entry for each translated entity, and none for entities gone."""
    assert {p: set(keys) for p, keys in icons["entity"].items()} == {
        p: set(keys) for p, keys in strings["entity"].items()
    }
    for platform, entities in icons["entity"].items():
        for key, item in entities.items():
            states = strings["entity"][platform][key]
            for attribute, attr_icons in item.get("state_attributes", {}).items():
                translated = states["state_attributes"][attribute]["state"]
                assert set(attr_icons.get("state", {})) <= set(translated), f"{key}.{attribute}"
