"""What the integration's code uses, read from its source (AST), for the validation tests.

The validation tests compare ``strings.json``, ``services.yaml``, ``icons.json`` and
``manifest.json`` with what the code really uses: translation keys of flows, entities,
devices, exceptions and repair issues, placeholders, selectors, and the Home Assistant
components and third-party packages it imports. Reading the source (not a hand list)
keeps the comparison honest as the code changes.

A key passed through a variable is followed to the string constants assigned to that
variable in the same function, or to a module-level constant of the package. A key the
scan cannot follow (a loop variable, a function argument) is reported as *dynamic*:
the tests then count every literal of that module that names a key of the section as
used, so stale keys are still found, and list the site so a reader knows it exists.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
import importlib
from pathlib import Path
import sys

from homeassistant import const as ha_const
from homeassistant.exceptions import HomeAssistantError

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "custom_components" / "ipro_nvr"


@dataclass(frozen=True)
class Site:
    """Where something is used: ``path:line`` relative to the integration."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class KeyUse:
    """One use of a translation key (``None``: the scan could not follow it)."""

    keys: frozenset[str] | None
    site: Site
    placeholders: frozenset[str] | None = None  # None: unknown or none passed


@dataclass
class FlowUse:
    """Steps, errors and aborts of the config flow or the options flow."""

    steps: dict[str, Site] = field(default_factory=dict)
    step_placeholders: dict[str, frozenset[str]] = field(default_factory=dict)
    errors: dict[str, Site] = field(default_factory=dict)
    aborts: dict[str, Site] = field(default_factory=dict)


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


class PackageScan:
    """The parsed modules of the integration and what they use."""

    def __init__(self, package_dir: Path = PACKAGE_DIR) -> None:
        """Parse every module of the package."""
        self.package_dir = package_dir
        self.modules: dict[str, ast.Module] = {
            str(path.relative_to(package_dir)): ast.parse(path.read_text(), str(path))
            for path in sorted(package_dir.rglob("*.py"))
        }
        self._parents: dict[ast.AST, ast.AST] = {}
        for tree in self.modules.values():
            for node in ast.walk(tree):
                for child in ast.iter_child_nodes(node):
                    self._parents[child] = node

    # -- helpers -------------------------------------------------------------

    def _nodes(self, path: str | None = None) -> Iterator[tuple[str, ast.AST]]:
        for module_path, tree in self.modules.items():
            if path is None or module_path == path:
                for node in ast.walk(tree):
                    yield module_path, node

    def _calls(self, *names: str, path: str | None = None) -> Iterator[tuple[str, ast.Call]]:
        for module_path, node in self._nodes(path):
            if isinstance(node, ast.Call) and _call_name(node) in names:
                yield module_path, node

    def _enclosing(self, node: ast.AST, *kinds: type[ast.AST]) -> ast.AST | None:
        parent = self._parents.get(node)
        while parent is not None and not isinstance(parent, kinds):
            parent = self._parents.get(parent)
        return parent

    @cached_property
    def module_constants(self) -> dict[str, set[str]]:
        """Module-level ``NAME = "text"`` constants of every module, by name."""
        constants: dict[str, set[str]] = {}
        for tree in self.modules.values():
            for stmt in tree.body:
                target: ast.expr | None = None
                value: ast.expr | None = None
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                    target, value = stmt.targets[0], stmt.value
                elif isinstance(stmt, ast.AnnAssign):
                    target, value = stmt.target, stmt.value
                if (
                    isinstance(target, ast.Name)
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    constants.setdefault(target.id, set()).add(value.value)
        return constants

    def strings(self, expr: ast.expr | None) -> frozenset[str] | None:
        """The string values ``expr`` can have, or None when the scan cannot tell."""
        if expr is None:
            return None
        if isinstance(expr, ast.Constant):
            return frozenset({expr.value}) if isinstance(expr.value, str) else None
        if isinstance(expr, ast.IfExp):
            body, orelse = self.strings(expr.body), self.strings(expr.orelse)
            return None if body is None or orelse is None else body | orelse
        if isinstance(expr, ast.Name):
            return self._name_strings(expr)
        return None

    def _name_strings(self, name: ast.Name) -> frozenset[str] | None:
        function = self._enclosing(name, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
        if function is not None:
            values: set[str] = set()
            bound_otherwise = False
            for node in ast.walk(function):
                if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == name.id for t in node.targets
                ):
                    found = self.strings(node.value)
                    if found is None:
                        return None
                    values |= found
                elif isinstance(node, ast.arg) and node.arg == name.id:
                    bound_otherwise = True
                elif (
                    isinstance(node, ast.Name)
                    and node.id == name.id
                    and isinstance(node.ctx, ast.Store)
                    and not isinstance(self._parents.get(node), ast.Assign)
                ):
                    bound_otherwise = True  # a loop target, an unpacking, a walrus
            if bound_otherwise:
                return None
            if values:
                return frozenset(values)
        constant = self.module_constants.get(name.id)
        if constant:
            return frozenset(constant)
        # Constants the code imports from Home Assistant (CONF_HOST and the like).
        value = getattr(ha_const, name.id, None)
        return frozenset({value}) if isinstance(value, str) else None

    def dict_keys(self, expr: ast.expr | None) -> frozenset[str] | None:
        """The keys of a dict literal (or of the dict literal a local name holds)."""
        if isinstance(expr, ast.Dict):
            keys: set[str] = set()
            for key in expr.keys:
                found = self.strings(key) if key is not None else None
                if found is None:
                    return None
                keys |= found
            return frozenset(keys)
        function = self._enclosing(expr, ast.FunctionDef, ast.AsyncFunctionDef) if expr else None
        if isinstance(expr, ast.Name) and function is not None:
            assigned = [
                node.value
                for node in ast.walk(function)
                if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets)
            ]
            if len(assigned) == 1:
                return self.dict_keys(assigned[0])
        return None

    def _site(self, path: str, node: ast.AST) -> Site:
        return Site(path, getattr(node, "lineno", 0))

    # -- translation keys ----------------------------------------------------

    def exception_keys(self) -> list[KeyUse]:
        """``translation_key`` of every call that also names a ``translation_domain``."""
        uses = []
        for path, node in self._nodes():
            if isinstance(node, ast.Call) and _keyword(node, "translation_domain") is not None:
                uses.append(
                    KeyUse(
                        self.strings(_keyword(node, "translation_key")),
                        self._site(path, node),
                        self.dict_keys(_keyword(node, "translation_placeholders")),
                    )
                )
        return uses

    def issue_keys(self) -> list[KeyUse]:
        """``translation_key`` of every repair issue created."""
        return [
            KeyUse(
                self.strings(_keyword(call, "translation_key")),
                self._site(path, call),
                self.dict_keys(_keyword(call, "translation_placeholders")),
            )
            for path, call in self._calls("async_create_issue", "create_issue")
        ]

    def device_keys(self) -> list[KeyUse]:
        """``translation_key`` of every ``DeviceInfo`` (or device-registry call) that has one."""
        return [
            KeyUse(
                self.strings(key),
                self._site(path, call),
                self.dict_keys(_keyword(call, "translation_placeholders")),
            )
            for path, call in self._calls("DeviceInfo", "async_get_or_create")
            if (key := _keyword(call, "translation_key")) is not None
        ]

    def entity_keys(self, platforms: set[str]) -> dict[str, list[KeyUse]]:
        """Entity translation keys by platform (the module they are defined in)."""
        found: dict[str, list[KeyUse]] = {}
        for path, node in self._nodes():
            value: ast.expr | None = None
            if isinstance(node, ast.Call) and _call_name(node).endswith("Description"):
                value = _keyword(node, "translation_key")
            elif isinstance(node, ast.Assign) and any(
                (isinstance(t, ast.Name) and t.id == "_attr_translation_key")
                or (isinstance(t, ast.Attribute) and t.attr == "_attr_translation_key")
                for t in node.targets
            ):
                value = node.value
            if value is None or (isinstance(value, ast.Constant) and value.value is None):
                continue
            platform = Path(path).stem
            if platform not in platforms:
                platform = f"<not a platform: {path}>"
            found.setdefault(platform, []).append(
                KeyUse(self.strings(value), self._site(path, node))
            )
        return found

    def entity_placeholders(self, path: str) -> frozenset[str]:
        """Placeholder names a platform module passes to its entity names."""
        names: set[str] = set()
        for _, node in self._nodes(path):
            value: ast.expr | None = None
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name | ast.Attribute)
                and getattr(t, "id", getattr(t, "attr", "")) == "_attr_translation_placeholders"
                for t in node.targets
            ):
                value = node.value
            elif isinstance(node, ast.Call) and _call_name(node).endswith("Description"):
                value = _keyword(node, "translation_placeholders")
            names |= self.dict_keys(value) or frozenset()
        return frozenset(names)

    def selector_keys(self) -> list[KeyUse]:
        """``translation_key`` of selectors built in code (the config and options flows)."""
        return [
            KeyUse(self.strings(_keyword(call, "translation_key")), self._site(path, call))
            for path, call in self._calls("SelectSelectorConfig")
            if _keyword(call, "translation_key") is not None
        ]

    def untranslated_exceptions(self) -> list[str]:
        """Home Assistant errors built without a ``translation_key`` (``path:line Name``)."""
        found = []
        for path, tree in self.modules.items():
            imported = {
                alias.asname or alias.name: (node.module, alias.name)
                for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                for alias in node.names
            }
            for _, call in self._calls(*imported, path=path):
                if not isinstance(call.func, ast.Name):
                    continue
                module, name = imported[call.func.id]
                cls = getattr(importlib.import_module(module), name, None)
                if (
                    isinstance(cls, type)
                    and issubclass(cls, HomeAssistantError)
                    and _keyword(call, "translation_key") is None
                ):
                    found.append(f"{self._site(path, call)} {call.func.id}")
        return found

    def key_placeholder_pairs(self, path: str) -> frozenset[str]:
        """Keys written as ``("key", {placeholders})`` pairs: a table of keys and their values."""
        return frozenset(
            node.elts[0].value
            for _, node in self._nodes(path)
            if isinstance(node, ast.Tuple)
            and len(node.elts) == 2
            and isinstance(node.elts[0], ast.Constant)
            and isinstance(node.elts[0].value, str)
            and isinstance(node.elts[1], ast.Dict)
        )

    def literals(self, path: str) -> frozenset[str]:
        """Every string constant of a module (for keys the scan cannot follow)."""
        return frozenset(
            node.value
            for _, node in self._nodes(path)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        )

    # -- flows ---------------------------------------------------------------

    def _flow_kind(self, node: ast.AST) -> str:
        cls = self._enclosing(node, ast.ClassDef)
        bases = [ast.unparse(b) for b in cls.bases] if isinstance(cls, ast.ClassDef) else []
        return "options" if any("OptionsFlow" in b for b in bases) else "config"

    def flows(self, path: str = "config_flow.py") -> dict[str, FlowUse]:
        """Steps shown, errors and abort reasons of the ``config`` and ``options`` flows."""
        result = {"config": FlowUse(), "options": FlowUse()}
        for _, call in self._calls("async_show_form", path=path):
            flow = result[self._flow_kind(call)]
            for step in self.strings(_keyword(call, "step_id")) or {"<unknown step_id>"}:
                flow.steps[step] = self._site(path, call)
                flow.step_placeholders[step] = (
                    self.dict_keys(_keyword(call, "description_placeholders")) or frozenset()
                )
        for _, node in self._nodes(path):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "base":
                        flow = result[self._flow_kind(node)]
                        for error in self.strings(value) or {"<unknown error>"}:
                            flow.errors[error] = self._site(path, node)
            elif isinstance(node, ast.Call) and (reasons := self._abort_reasons(node)):
                flow = result[self._flow_kind(node)]
                for reason in reasons:
                    flow.aborts[reason] = self._site(path, node)
        return result

    def _abort_reasons(self, call: ast.Call) -> frozenset[str]:
        """The abort reasons a flow call can end with (empty: not an abort)."""
        name = _call_name(call)
        reasons: frozenset[str] | None
        if name == "async_abort":
            reasons = self.strings(_keyword(call, "reason"))
        elif name in {"_abort_if_unique_id_configured", "_async_abort_entries_match"}:
            reasons = frozenset({"already_configured"})
        elif name == "_abort_if_unique_id_mismatch":
            reasons = self.strings(_keyword(call, "reason")) or frozenset({"unique_id_mismatch"})
        elif name == "async_update_reload_and_abort":
            reasons = self.strings(_keyword(call, "reason")) or self._default_reason(call)
        else:
            return frozenset()
        return reasons or frozenset({"<unknown abort reason>"})

    def _default_reason(self, call: ast.Call) -> frozenset[str] | None:
        # Home Assistant picks the reason from the flow's source: the step's name tells it.
        function = self._enclosing(call, ast.FunctionDef, ast.AsyncFunctionDef)
        name = getattr(function, "name", "")
        if "reauth" in name:
            return frozenset({"reauth_successful"})
        if "reconfigure" in name:
            return frozenset({"reconfigure_successful"})
        return None

    # -- imports -------------------------------------------------------------

    def component_imports(self) -> dict[str, set[Site]]:
        """Home Assistant components the code imports (outside ``TYPE_CHECKING``)."""
        found: dict[str, set[Site]] = {}
        for path, node in self._nodes():
            if self._type_checking_only(node):
                continue
            modules: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "homeassistant.components":
                    modules = [f"homeassistant.components.{a.name}" for a in node.names]
                else:
                    modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            for module in modules:
                parts = module.split(".")
                if parts[:2] == ["homeassistant", "components"] and len(parts) > 2:
                    found.setdefault(parts[2], set()).add(self._site(path, node))
        return found

    def third_party_imports(self) -> dict[str, set[Site]]:
        """Top-level modules imported that are neither stdlib, Home Assistant nor ours."""
        found: dict[str, set[Site]] = {}
        for path, node in self._nodes():
            if self._type_checking_only(node):
                continue
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in {
                    "homeassistant",
                    "custom_components",
                    "__future__",
                }:
                    continue
                found.setdefault(top, set()).add(self._site(path, node))
        return found

    def _type_checking_only(self, node: ast.AST) -> bool:
        parent = self._parents.get(node)
        while parent is not None:
            if isinstance(parent, ast.If) and ast.unparse(parent.test).endswith("TYPE_CHECKING"):
                return True
            parent = self._parents.get(parent)
        return False
