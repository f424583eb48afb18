"""The rules hassfest, HACS and the brands repository apply, restated for offline tests.

Sources (read, then restated here in our own code; cite them when a rule changes):
- hassfest: ``script/hassfest/{manifest,translations,services,icons,dependencies,
  quality_scale}.py`` and ``quality_scale_validation/`` of home-assistant/core;
- HACS: ``custom_components/hacs/utils/validate.py`` (``hacs.json`` and the manifest keys
  HACS needs) and ``validate/`` (LICENSE, information file) of hacs/integration;
- brand images: the README and ``.github/workflows/validate/validate.sh`` of
  home-assistant/brands (sizes, PNG), and the 2026.3 announcement that custom
  integrations ship them in ``<domain>/brand/``.

Each rule is a voluptuous validator or a function returning the problems it finds, so a
test can show every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable
import re
import string
from typing import Any
from urllib.parse import urlparse

from awesomeversion import AwesomeVersion, AwesomeVersionException, AwesomeVersionStrategy
from homeassistant.helpers import config_validation as cv, selector
import voluptuous as vol

# -- translations (hassfest translations.py) ---------------------------------

# Lower-case letters, digits, "-" and "_"; not starting or ending with "-"/"_" and
# without two of them in a row.
TRANSLATION_KEY = re.compile(r"^(?![_-])(?!.*[_-]{2})[a-z0-9_-]+(?<![_-])$")
_REFERENCE_INSIDE_TEXT = re.compile(r"(.+\[%)|(%\].+)")
_QUOTED_PLACEHOLDER = re.compile(r"'\{\w+\}'")
_URL = re.compile(
    r"((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5)://|www\.)"
    r"[a-z0-9]+([-.][a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(/.*)?",
    re.IGNORECASE,
)


def translation_key(value: Any) -> str:
    """A key of a translated item (entity, state, selector option, service field)."""
    if not isinstance(value, str) or not TRANSLATION_KEY.match(value):
        raise vol.Invalid(f"invalid translation key {value!r}")
    return value


def placeholders_of(text: str) -> set[str]:
    """The ``{name}`` placeholders of a translated text."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _translated_text(*, placeholders: bool) -> Callable[[Any], str]:
    def validate(value: Any) -> str:
        text = cv.string_with_no_html(value)  # "<b>", but also "<recorder>"
        if _QUOTED_PLACEHOLDER.search(text):
            raise vol.Invalid("placeholders must not be in single quotes")
        try:
            names = placeholders_of(text)
        except ValueError as err:  # an unmatched "{"
            raise vol.Invalid(f"broken placeholder: {err}") from err
        if names and not placeholders:
            raise vol.Invalid("placeholders are not allowed here")
        if any(not name.isidentifier() for name in names):
            raise vol.Invalid("placeholders must be identifiers")
        if _REFERENCE_INSIDE_TEXT.search(text):
            raise vol.Invalid("a [%key:...%] reference must be the whole text")
        if text != text.strip():
            raise vol.Invalid("no leading or trailing spaces")
        if _URL.search(text):
            raise vol.Invalid("no URLs (pass them as description placeholders)")
        return text

    return validate


TEXT = _translated_text(placeholders=True)
TEXT_NO_PLACEHOLDERS = _translated_text(placeholders=False)


def _keys(value_schema: Any, key: Callable[[Any], str] = translation_key) -> Any:
    return cv.schema_with_slug_keys(value_schema, slug_validator=key)


def _data_descriptions_describe_fields(flow: dict[str, Any]) -> dict[str, Any]:
    for step_id, step in flow["step"].items():
        extra = set(step.get("data_description", {})) - set(step.get("data", {}))
        if extra:
            raise vol.Invalid(f"step {step_id}: data_description of no field: {sorted(extra)}")
    return flow


_FLOW = vol.All(
    vol.Schema(
        {
            vol.Optional("flow_title"): TEXT,
            vol.Required("step"): {
                str: {
                    vol.Optional("title"): TEXT,
                    vol.Optional("description"): TEXT,
                    vol.Optional("data"): {str: TEXT},
                    vol.Optional("data_description"): {str: TEXT},
                    vol.Optional("menu_options"): {str: TEXT},
                    vol.Optional("menu_option_descriptions"): {str: TEXT},
                    vol.Optional("submit"): TEXT,
                    vol.Optional("sections"): {
                        str: {
                            vol.Optional("name"): TEXT,
                            vol.Optional("description"): TEXT,
                            vol.Optional("data"): {str: TEXT},
                            vol.Optional("data_description"): {str: TEXT},
                        }
                    },
                }
            },
            vol.Optional("error"): {str: TEXT},
            vol.Optional("abort"): {str: TEXT},
            vol.Optional("progress"): {str: TEXT},
            vol.Optional("create_entry"): {str: TEXT},
            vol.Optional("initiate_flow"): {vol.Required("user"): TEXT},
        }
    ),
    _data_descriptions_describe_fields,
)

_STATES = _keys(TEXT_NO_PLACEHOLDERS)
_SERVICE_FIELDS = _keys(
    {vol.Required("name"): str, vol.Required("description"): TEXT, vol.Optional("example"): TEXT}
)

STRINGS_SCHEMA = vol.Schema(
    {
        vol.Optional("title"): TEXT,
        vol.Optional("config"): _FLOW,
        vol.Optional("options"): _FLOW,
        vol.Optional("selector"): cv.schema_with_slug_keys(
            {
                vol.Optional("options"): _STATES,
                vol.Optional("choices"): _STATES,
                vol.Optional("unit_of_measurement"): _STATES,
            },
            slug_validator=vol.Any("_", cv.slug),
        ),
        vol.Optional("device"): _keys({vol.Optional("name"): TEXT}),
        vol.Optional("entity"): cv.schema_with_slug_keys(
            _keys(
                {
                    vol.Optional("name"): TEXT,
                    vol.Optional("state"): _STATES,
                    vol.Optional("state_attributes"): _keys(
                        {vol.Optional("name"): TEXT_NO_PLACEHOLDERS, vol.Optional("state"): _STATES}
                    ),
                    vol.Optional("unit_of_measurement"): TEXT_NO_PLACEHOLDERS,
                }
            ),
            slug_validator=cv.slug,
        ),
        vol.Optional("exceptions"): cv.schema_with_slug_keys(
            {vol.Optional("message"): TEXT}, slug_validator=cv.slug
        ),
        vol.Optional("services"): _keys(
            {
                vol.Required("name"): TEXT,
                vol.Required("description"): TEXT,
                vol.Optional("fields"): _SERVICE_FIELDS,
                vol.Optional("sections"): _keys(
                    {vol.Required("name"): str, vol.Optional("description"): TEXT}
                ),
            }
        ),
        vol.Optional("issues"): {
            str: vol.All(
                cv.has_at_least_one_key("description", "fix_flow"),
                {
                    vol.Required("title"): TEXT,
                    vol.Exclusive("description", "fixable"): TEXT,
                    vol.Exclusive("fix_flow", "fixable"): _FLOW,
                },
            )
        },
    }
)

# -- manifest (hassfest manifest.py, HACS validate.py) -----------------------

_CORE_DOCS = "https://www.home-assistant.io/integrations"
INTEGRATION_TYPES = ("device", "entity", "hardware", "helper", "hub", "service", "system")
IOT_CLASSES = (
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
)


def _custom_documentation(value: str) -> str:
    if urlparse(value).scheme != "https":
        raise vol.Invalid("documentation must be an https URL")
    if value.startswith(_CORE_DOCS):
        raise vol.Invalid("documentation must be the custom integration's own, not core's")
    return value


def _version(value: str) -> str:
    try:
        AwesomeVersion(
            value,
            ensure_strategy=[
                AwesomeVersionStrategy.CALVER,
                AwesomeVersionStrategy.SEMVER,
                AwesomeVersionStrategy.SIMPLEVER,
                AwesomeVersionStrategy.BUILDVER,
                AwesomeVersionStrategy.PEP440,
            ],
        )
    except AwesomeVersionException as err:
        raise vol.Invalid(f"{value!r} is not a version") from err
    return value


# Only the keys a custom integration of our kind may use; discovery matchers
# (zeroconf, ssdp, dhcp, usb, bluetooth, homekit, mqtt) are omitted on purpose: an
# unknown key fails, like in hassfest, so adding one means reading its rules first.
CUSTOM_MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("domain"): str,
        vol.Required("name"): str,
        vol.Optional("integration_type"): vol.In(INTEGRATION_TYPES),
        vol.Optional("config_flow"): bool,
        vol.Required("documentation"): vol.All(vol.Url(), _custom_documentation),
        vol.Optional("issue_tracker"): vol.Url(),
        vol.Optional("quality_scale"): vol.In(
            ["bronze", "silver", "gold", "platinum", "custom", "no_score", "internal", "legacy"]
        ),
        vol.Optional("requirements"): [str],
        vol.Optional("dependencies"): [str],
        vol.Optional("after_dependencies"): [str],
        vol.Required("codeowners"): [str],
        vol.Optional("loggers"): [str],
        vol.Optional("disabled"): str,
        vol.Required("iot_class"): vol.In(IOT_CLASSES),
        vol.Optional("single_config_entry"): bool,
        vol.Required("version"): vol.All(str, _version),
        vol.Optional("import_executor"): bool,
    }
)

HACS_MANIFEST_KEYS = ("codeowners", "documentation", "domain", "issue_tracker", "name", "version")


def manifest_key_order(keys: list[str]) -> list[str]:
    """The order hassfest wants: domain, name, then the rest alphabetically."""
    first = {"domain": "0", "name": "1"}
    return sorted(keys, key=lambda key: (first.get(key, "2"), key))


# -- hacs.json (HACS validate.py) --------------------------------------------

HACS_JSON_SCHEMA = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Optional("content_in_root"): bool,
        vol.Optional("country"): vol.Any(str, [str]),
        vol.Optional("filename"): str,
        vol.Optional("hacs"): str,
        vol.Optional("hide_default_branch"): bool,
        vol.Optional("homeassistant"): vol.All(str, _version),
        vol.Optional("persistent_directory"): str,
        vol.Optional("render_readme"): bool,
        vol.Optional("zip_release"): bool,
    },
    extra=vol.PREVENT_EXTRA,
)

# -- services.yaml (hassfest services.py, custom integration) ----------------


def _present(value: Any) -> Any:
    if value is None:
        raise vol.Invalid("a value is needed")
    return value


_FIELD = vol.Schema(
    {
        vol.Optional("example"): _present,
        vol.Optional("default"): _present,
        vol.Optional("required"): bool,
        vol.Optional("advanced"): bool,
        vol.Optional("selector"): selector.validate_selector,
        vol.Optional("filter"): dict,
        vol.Optional("name"): str,
        vol.Optional("description"): str,
    }
)
_SECTION = vol.Schema(
    {
        vol.Optional("collapsed"): bool,
        vol.Required("fields"): {str: _FIELD},
        vol.Optional("name"): str,
        vol.Optional("description"): str,
    }
)
SERVICES_SCHEMA = vol.Schema(
    {
        cv.slug: vol.Any(
            None,
            vol.Schema(
                {
                    vol.Optional("target"): vol.Any(selector.TargetSelector.CONFIG_SCHEMA, None),
                    vol.Optional("fields"): {str: vol.Any(_FIELD, _SECTION)},
                    vol.Optional("name"): str,
                    vol.Optional("description"): str,
                }
            ),
        )
    }
)

# -- icons.json (hassfest icons.py) ------------------------------------------


def icon(value: Any) -> str:
    """A Material Design icon, ``mdi:...``."""
    text = cv.string_with_no_html(value)
    if not text.startswith("mdi:"):
        raise vol.Invalid("icons are Material Design Icons: mdi:...")
    return text


def _no_state_icon_equals_default(value: dict[str, Any]) -> dict[str, Any]:
    for key, item in value.items():
        default, states = item.get("default"), item.get("state", {})
        same = [state for state, state_icon in states.items() if state_icon == default]
        if default and same:
            raise vol.Invalid(f"{key}: states {same} repeat the default icon")
    return value


_ICON_STATES = _keys(icon)
_ENTITY_ICONS = vol.All(
    _keys(
        {
            vol.Optional("default"): icon,
            vol.Optional("state"): _ICON_STATES,
            vol.Optional("range"): {str: icon},
            vol.Optional("state_attributes"): vol.All(
                _keys({vol.Optional("default"): icon, vol.Optional("state"): _ICON_STATES}),
                _no_state_icon_equals_default,
            ),
        }
    ),
    _no_state_icon_equals_default,
)
ICONS_SCHEMA = vol.Schema(
    {
        vol.Optional("entity"): cv.schema_with_slug_keys(_ENTITY_ICONS, slug_validator=cv.slug),
        vol.Optional("services"): _keys(
            vol.Any(
                icon,  # the older shorthand, still read by Home Assistant
                {vol.Optional("service"): icon, vol.Optional("sections"): _keys(icon)},
            )
        ),
        vol.Optional("config"): dict,
        vol.Optional("options"): dict,
        vol.Optional("issues"): dict,
    }
)

# -- quality scale (hassfest quality_scale.py, ALL_RULES) --------------------

QUALITY_SCALE_RULES: dict[str, tuple[str, ...]] = {
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": ("async-dependency", "inject-websession", "strict-typing"),
}
ALL_RULES = tuple(rule for rules in QUALITY_SCALE_RULES.values() for rule in rules)

QUALITY_SCALE_SCHEMA = vol.Schema(
    {
        vol.Required("rules"): {
            vol.Optional(rule): vol.Any(
                vol.In(["todo", "done"]),
                {vol.Required("status"): vol.In(["todo", "done"]), vol.Required("comment"): str},
                {vol.Required("status"): "exempt", vol.Required("comment"): str},
            )
            for rule in ALL_RULES
        }
    }
)

# -- brand images (brands repository) ----------------------------------------

BRAND_FILES = (
    "icon.png",
    "icon@2x.png",
    "dark_icon.png",
    "dark_icon@2x.png",
    "logo.png",
    "logo@2x.png",
    "dark_logo.png",
    "dark_logo@2x.png",
)


def brand_image_problems(name: str, size: tuple[int, int], image_format: str) -> list[str]:
    """What the brands repository's validation says about one image."""
    problems = [] if image_format == "PNG" else [f"{name}: {image_format}, not PNG"]
    width, height = size
    hidpi = "@2x" in name
    if "icon" in name:
        side = 512 if hidpi else 256
        if size != (side, side):
            problems.append(f"{name}: {width}x{height}, must be {side}x{side}")
    else:
        low, high = (256, 512) if hidpi else (128, 256)
        if not low <= min(size) <= high:
            problems.append(f"{name}: shortest side {min(size)}, must be {low}..{high}")
    return problems
