"""hassfest's checks of a custom integration, run offline (see ``ha_rules`` for the sources).

hassfest runs in the ecosystem's CI (``home-assistant/actions/hassfest``) on every push of
a custom integration's repository; these tests fail where it would, before a push.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from homeassistant import components as ha_components
from homeassistant.const import Platform
from homeassistant.util.yaml import load_yaml_dict
from packaging.requirements import Requirement
import pytest
import voluptuous as vol
from voluptuous.humanize import humanize_error

from tests.validation import ha_rules
from tests.validation.code_scan import PACKAGE_DIR, PackageScan
from tests.validation.conftest import load_json

DOMAIN = PACKAGE_DIR.name
COMPONENTS_DIR = Path(ha_components.__file__).parent
ENTITY_PLATFORMS = {platform.value for platform in Platform}
# The diagnostics integration loads every integration's diagnostics platform itself:
# no integration lists it (none of core's manifests does), importing its helper is fine.
LOADS_US = {"diagnostics"}


def _problems(schema: vol.Schema, data: Any) -> str:
    try:
        schema(data)
    except vol.Invalid as err:
        return humanize_error(data, err)
    return ""


def _core_manifest(domain: str) -> dict[str, Any]:
    data: dict[str, Any] = load_json(COMPONENTS_DIR / domain / "manifest.json")
    return data


# -- manifest ---------------------------------------------------------------


def test_manifest_is_valid_for_a_custom_integration(manifest: dict[str, Any]) -> None:
    """The schema, the domain (= the folder's name), the version and the key order."""
    assert _problems(ha_rules.CUSTOM_MANIFEST_SCHEMA, manifest) == ""
    assert manifest["domain"] == PACKAGE_DIR.name
    assert not (COMPONENTS_DIR / manifest["domain"]).exists(), "domain collides with core"
    keys = list(manifest)
    assert keys == ha_rules.manifest_key_order(keys), "domain, name, then alphabetical"


def test_manifest_schema_rejects_what_hassfest_rejects(manifest: dict[str, Any]) -> None:
    """The reproduced rules bite: core docs URL, a bad version, an unknown key."""
    for broken in (
        {**manifest, "documentation": "https://www.home-assistant.io/integrations/ipro_nvr"},
        {**manifest, "version": "one"},
        {**manifest, "homeassistant": "2026.2.0"},
        {k: v for k, v in manifest.items() if k != "version"},
    ):
        assert _problems(ha_rules.CUSTOM_MANIFEST_SCHEMA, broken)
    assert ha_rules.manifest_key_order(["codeowners", "name", "domain"]) == [
        "domain",
        "name",
        "codeowners",
    ]


def test_dependencies_exist_and_are_not_listed_twice(manifest: dict[str, Any]) -> None:
    """Every (after-)dependency is a Home Assistant component, listed once."""
    deps, after = manifest.get("dependencies", []), manifest.get("after_dependencies", [])
    assert not set(deps) & set(after)
    for domain in [*deps, *after]:
        assert (COMPONENTS_DIR / domain / "manifest.json").is_file(), domain
        assert manifest["domain"] not in _core_manifest(domain).get("dependencies", [])


def test_imported_components_are_dependencies(scan: PackageScan, manifest: dict[str, Any]) -> None:
    """Each component the code imports is set up before us, unless it is an entity platform.

    Stricter than hassfest (which lets anything import ``media_source`` and ``stream``):
    a component whose code or requirements we need is in ``dependencies`` (needed to
    work) or ``after_dependencies`` (optional; its requirements still get installed).
    """
    listed = set(manifest.get("dependencies", [])) | set(manifest.get("after_dependencies", []))
    imported = scan.component_imports()
    missing = {
        domain: sorted(map(str, sites))
        for domain, sites in imported.items()
        if domain not in listed | ENTITY_PLATFORMS | LOADS_US
    }
    assert missing == {}


@cache
def _distributions() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def _distribution_of(module: str) -> set[str]:
    return {Requirement(dist).name.lower() for dist in _distributions().get(module, [])}


def _requirement_names(requirements: list[str]) -> set[str]:
    return {Requirement(req).name.lower() for req in requirements}


def _installed_with(distribution: str) -> set[str]:
    """``distribution``'s requirements, theirs and so on: what installing it brings.

    Home Assistant's own list changes between releases (2026.10 no longer names
    voluptuous, which comes through its other requirements), so the closure counts.
    """
    found: set[str] = set()
    todo = [distribution]
    while todo:
        try:
            requires = metadata.requires(todo.pop()) or []
        except metadata.PackageNotFoundError:
            continue
        for req in requires:
            parsed = Requirement(req)
            if parsed.marker is not None and not parsed.marker.evaluate({"extra": ""}):
                continue
            name = parsed.name.lower()
            if name not in found:
                found.add(name)
                todo.append(name)
    return found


@cache
def _core_requirements() -> dict[str, set[str]]:
    """Requirements of every Home Assistant component, by domain."""
    return {
        path.parent.name: _requirement_names(load_json(path).get("requirements", []))
        for path in COMPONENTS_DIR.glob("*/manifest.json")
    }


def _components_requiring(distributions: set[str]) -> set[str]:
    return {domain for domain, reqs in _core_requirements().items() if reqs & distributions}


def test_third_party_packages_are_installed_by_a_dependency(
    scan: PackageScan, manifest: dict[str, Any]
) -> None:
    """A package we import is Home Assistant's own, ours, or a requirement of a listed dependency.

    Home Assistant installs a component's requirements only when something needs the
    component: ``import av`` works because ``stream`` (which requires PyAV) is a
    dependency.
    """
    core = _installed_with("homeassistant")
    ours = _requirement_names(manifest.get("requirements", []))
    listed = set(manifest.get("dependencies", [])) | set(manifest.get("after_dependencies", []))
    unprovided = {}
    for module, sites in scan.third_party_imports().items():
        dists = _distribution_of(module)
        assert dists, f"{module} is not installed ({sorted(map(str, sites))})"
        if dists & (core | ours):
            continue
        providers = _components_requiring(dists)
        if not providers & listed:
            unprovided[module] = f"needs one of {sorted(providers)} ({sorted(map(str, sites))})"
    assert unprovided == {}


def test_every_listed_dependency_is_used(scan: PackageScan, manifest: dict[str, Any]) -> None:
    """No dependency without a reason in the code (an import of it or of its requirement)."""
    imported = set(scan.component_imports())
    third_party = {d for m in scan.third_party_imports() for d in _distribution_of(m)}
    for domain in manifest.get("dependencies", []) + manifest.get("after_dependencies", []):
        provides = _core_requirements()[domain]
        assert domain in imported or provides & third_party, f"{domain} is not used"


# -- translations -----------------------------------------------------------


def test_english_translation_is_strings_json(strings: dict[str, Any]) -> None:
    """A custom integration ships ``translations/en.json``; it is ``strings.json`` itself."""
    assert load_json(PACKAGE_DIR / "translations" / "en.json") == strings


@pytest.mark.parametrize("name", ["strings.json", "translations/en.json"])
def test_translation_file_follows_hassfest_rules(name: str) -> None:
    """Keys, structure, no HTML/URLs, placeholders only where allowed."""
    assert _problems(ha_rules.STRINGS_SCHEMA, load_json(PACKAGE_DIR / name)) == ""


@pytest.mark.parametrize(
    "text",
    [
        "default ipro_nvr/<recorder>/<camera>",  # was in services.yaml's folder description
        "see https://example.com/docs",
        "quoted '{placeholder}'",
        " leading space",
        "prefix [%key:common::config_flow::data::host%]",
    ],
)
def test_translation_rules_reject_what_hassfest_rejects(text: str) -> None:
    """The reproduced text rules fail on the mistakes hassfest reports."""
    with pytest.raises(vol.Invalid):
        ha_rules.TEXT(text)


# -- services.yaml and icons.json --------------------------------------------


def test_services_yaml_follows_hassfest_rules(
    services_yaml: dict[str, Any], strings: dict[str, Any]
) -> None:
    """Schema (selectors validated by Home Assistant), and its select translation keys exist."""
    assert _problems(ha_rules.SERVICES_SCHEMA, services_yaml) == ""
    for service, spec in services_yaml.items():
        for field, field_spec in (spec or {}).get("fields", {}).items():
            key = field_spec.get("selector", {}).get("select", {}) or {}
            if "translation_key" in key:
                assert key["translation_key"] in strings.get("selector", {}), (service, field)


def test_icons_json_follows_hassfest_rules(icons: dict[str, Any]) -> None:
    """``mdi:`` icons, translation keys, no state icon equal to its default."""
    assert _problems(ha_rules.ICONS_SCHEMA, icons) == ""


# -- quality scale ------------------------------------------------------------


def _quality_scale() -> dict[str, Any]:
    return dict(load_yaml_dict(str(PACKAGE_DIR / "quality_scale.yaml")))


def _status(value: str | dict[str, str]) -> str:
    return value if isinstance(value, str) else value["status"]


def test_quality_scale_lists_every_rule_with_a_status() -> None:
    """Every rule of the current scale, done/todo/exempt; an exemption says why."""
    data = _quality_scale()
    assert _problems(ha_rules.QUALITY_SCALE_SCHEMA, data) == ""
    assert sorted(data["rules"]) == sorted(ha_rules.ALL_RULES)
    for rule, value in data["rules"].items():
        if _status(value) == "exempt":
            assert len(value["comment"].split()) >= 6, f"{rule}: give a reason"


def _source(name: str) -> str:
    path = PACKAGE_DIR / name
    return path.read_text() if path.is_file() else ""


def _platform_sources() -> dict[str, str]:
    return {p: _source(f"{p}.py") for p in ENTITY_PLATFORMS if (PACKAGE_DIR / f"{p}.py").is_file()}


# What hassfest (quality_scale_validation/) or a reviewer checks in code, per rule.
RULE_CHECKS: dict[str, Any] = {
    "config-flow": lambda scan, manifest: (
        manifest.get("config_flow") is True and (PACKAGE_DIR / "config_flow.py").is_file()
    ),
    "unique-config-entry": lambda scan, manifest: (
        manifest.get("single_config_entry")
        or (
            "async_set_unique_id" in _source("config_flow.py")
            and "_abort_if_unique_id_configured" in _source("config_flow.py")
        )
    ),
    "reconfiguration-flow": lambda scan, manifest: (
        "async def async_step_reconfigure" in _source("config_flow.py")
    ),
    "reauthentication-flow": lambda scan, manifest: (
        "async def async_step_reauth" in _source("config_flow.py")
    ),
    "runtime-data": lambda scan, manifest: "entry.runtime_data =" in _source("__init__.py"),
    "test-before-setup": lambda scan, manifest: (
        "async_config_entry_first_refresh" in _source("__init__.py")
    ),
    # With strict typing, hassfest's runtime-data check wants typed config entries.
    "strict-typing": lambda scan, manifest: (
        "strict = true" in (PACKAGE_DIR.parents[1] / "pyproject.toml").read_text()
        and not any(
            "entry: ConfigEntry" in source
            for source in (
                _source("__init__.py"),
                _source("diagnostics.py"),
                *_platform_sources().values(),
            )
        )
    ),
    "diagnostics": lambda scan, manifest: (PACKAGE_DIR / "diagnostics.py").is_file(),
    "discovery": lambda scan, manifest: any(
        key in manifest for key in ("zeroconf", "ssdp", "dhcp", "usb", "bluetooth")
    ),
    "parallel-updates": lambda scan, manifest: all(
        "PARALLEL_UPDATES" in source for source in _platform_sources().values()
    ),
    "exception-translations": lambda scan, manifest: scan.untranslated_exceptions() == [],
    "icon-translations": lambda scan, manifest: (
        not any("_attr_icon" in path.read_text() for path in PACKAGE_DIR.rglob("*.py"))
    ),
    "brands": lambda scan, manifest: (PACKAGE_DIR / "brand" / "icon.png").is_file(),
    # The documentation rules, against the README (the documentation URL's page).
    "docs-actions": lambda scan, manifest: all(
        f"{DOMAIN}.{action}" in _readme() for action in _services()
    ),
    "docs-installation-parameters": lambda scan, manifest: _labels_in_readme("config", "user"),
    "docs-configuration-parameters": lambda scan, manifest: _labels_in_readme("options", "init"),
    "docs-installation-instructions": lambda scan, manifest: "## install" in _readme(),
    "docs-removal-instructions": lambda scan, manifest: "## removal" in _readme(),
    "docs-known-limitations": lambda scan, manifest: "## known limitations" in _readme(),
    "docs-troubleshooting": lambda scan, manifest: "## troubleshooting" in _readme(),
}


def _readme() -> str:
    return (PACKAGE_DIR.parents[1] / "README.md").read_text().lower()


def _services() -> list[str]:
    return list(load_yaml_dict(str(PACKAGE_DIR / "services.yaml")))


def _labels_in_readme(flow: str, step: str) -> bool:
    """Each field of a form is explained in the README under the label the form shows."""
    labels = load_json(PACKAGE_DIR / "strings.json")[flow]["step"][step]["data"].values()
    return all(label.lower() in _readme() for label in labels)


@pytest.mark.parametrize("rule", sorted(RULE_CHECKS))
def test_rule_marked_done_holds_in_code(
    rule: str, scan: PackageScan, manifest: dict[str, Any]
) -> None:
    """The rules whose claim can be checked in code hold when they are marked done."""
    value = _quality_scale()["rules"][rule]
    if _status(value) != "done":
        pytest.skip(f"{rule} is {_status(value)}")
    assert RULE_CHECKS[rule](scan, manifest)
