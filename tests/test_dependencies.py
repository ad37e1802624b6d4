"""Dependencies that are true: every module an install imports is declared by that install.

For the core install and for each extra, a fresh interpreter does what the install
offers (``import ecartpay_async`` and the extra's entry points: the command line, the
sandbox and ``sandbox serve``, the pytest plugin, the aiohttp transport, the SDK on
trio) and reports every module it really imported (``sys.modules``). Each third-party
module must come from a distribution that the install requires: read from the
INSTALLED metadata of ecartpay-async (``importlib.metadata.requires``, extras markers
evaluated), then walked transitively through those distributions' own requirements.
An undeclared import fails here, not on a user's fresh machine.

A scenario may name distributions its entry point brings by definition (the pytest
plugin runs inside pytest; a trio program has trio). An extra with no scenario here
gets a default one: importing every module of the package that uses it. And every
import anywhere in the source must be declared by some extra (a static check).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

import attrs
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ecartpay_async.sandbox import Sandbox

PROJECT = "ecartpay-async"
PACKAGE = Path(__file__).parent.parent / "ecartpay_async"
#: Extras that only gather others (and tools): their scenarios are their parts'.
BUNDLES = frozenset({"all", "dev"})
# Extras for the repository's tools, not the package: `bench` and `peers` serve
# benchmarks/ (the package never imports them), and CI installs `dev` only.
TOOLING = frozenset({"bench", "peers"})


# -- what an install declares ---------------------------------------------------------------


def _applies(requirement: Requirement, extras: frozenset[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in extras or {""})


def declared_distributions(extras: frozenset[str], *, also: frozenset[str] = frozenset()
                           ) -> set[str]:
    """Distributions installed by ``ecartpay-async[extras]`` (plus ``also``), transitively.

    Read from the installed metadata: a requirement whose distribution is not installed
    is an error (the environment does not match what it declares).
    """
    found: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(PROJECT, extras), *((canonicalize_name(name), frozenset()) for name in also)]
    while todo:
        name, wanted = todo.pop()
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        if name != PROJECT:
            found.add(name)
        try:
            texts = requires(name) or []
        except PackageNotFoundError:
            raise AssertionError(f"{name} is required but not installed") from None
        for text in texts:
            requirement = Requirement(text)
            if _applies(requirement, wanted):
                todo.append((canonicalize_name(requirement.name),
                             frozenset(requirement.extras)))
    return found


@functools.cache
def _module_owners() -> dict[str, frozenset[str]]:
    return {module: frozenset(canonicalize_name(d) for d in owners)
            for module, owners in packages_distributions().items()}


def providers(module: str) -> frozenset[str]:
    """The distributions that install the top-level ``module``."""
    return _module_owners().get(module, frozenset())


@functools.cache
def is_standard_library(module: str) -> bool:
    """In the standard library, including its private modules that
    ``sys.stdlib_module_names`` does not list (``_sysconfigdata_*``, read by sysconfig)."""
    if module in sys.stdlib_module_names or module in sys.builtin_module_names:
        return True
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return False
    stdlib = {Path(sysconfig.get_path(name)).resolve() for name in ("stdlib", "platstdlib")}
    return Path(spec.origin).resolve().parent in stdlib


def undeclared(modules: set[str], allowed: set[str]) -> list[str]:
    problems = []
    for module in sorted(modules):
        if is_standard_library(module):
            continue
        if module == "ecartpay_async":
            continue
        owners = providers(module)
        if not owners:
            problems.append(f"{module} (from no installed distribution)")
        elif not owners & allowed:
            problems.append(f"{module} (from {', '.join(sorted(owners))})")
    return problems


# -- what an install really imports ---------------------------------------------------------


@attrs.frozen
class Scenario:
    """What one install offers, run in a fresh interpreter."""

    name: str
    extras: frozenset[str]
    code: str
    also: frozenset[str] = frozenset()
    env: tuple[tuple[str, str], ...] = ()


# Runs a scenario as on a machine holding only the declared distributions: the others
# cannot be imported (a dependency's guarded optional import, such as httpx importing
# rich for its own command line, then goes its fallback way, as it would there), and
# reports every module really imported. (Modules without a spec, such as
# ``__mp_main__`` or Cython's runtime modules, are not imports; nor are the scenario's
# own files.)
_PROBE = """\
import importlib.abc, json, os, sys
_before = set(sys.modules)
_ABSENT = frozenset(json.loads(os.environ["ABSENT_MODULES"]))

class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in _ABSENT:
            raise ModuleNotFoundError(f"No module named {{name!r}} (not declared)", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
{code}
_here = os.getcwd()
_after = {{name.partition(".")[0] for name, module in list(sys.modules.items())
          if name not in _before and getattr(module, "__spec__", None) is not None
          and not (module.__spec__.origin or "").startswith(_here)}}
with open(os.environ["IMPORTS_OUT"], "w") as _out:
    json.dump(sorted(_after), _out)
"""

_CLIENT = """
import os
from decimal import Decimal

import anyio

from ecartpay_async import AsyncClient
from ecartpay_async.batch import CsvSource
import ecartpay_async.splits, ecartpay_async.webhooks

async def main():
    options = {"base_url": os.environ["ECARTPAY_BASE_URL"]}
    if os.environ.get("TRANSPORT") == "aiohttp":
        from ecartpay_async.transport import AiohttpTransport

        options["transport"] = AiohttpTransport()
    async with AsyncClient(**options) as client:
        prefix = os.environ["PREFIX"]
        payout = await client.payouts.create(
            email="deps@example.com", reference_id=prefix + "-single",
            amount=Decimal("1.00"), currency="MXN", require_confirmation=True)
        await client.payouts.confirm(payout.id)
        async for _ in client.payouts.list(limit=2):
            break
        report = await client.payouts.send_batch(CsvSource(os.environ["ROWS"]),
                                                 journal=os.environ["JOURNAL"])
        assert report.ok and report.paid == 2, report

anyio.run(main, backend=os.environ.get("BACKEND", "asyncio"))
"""

_COMMANDS = """
import os
from ecartpay_async.cli import main

def command(*args):
    try:
        main(list(args), prog_name="ecartpay-async", standalone_mode=False)
    except SystemExit as exc:
        assert not exc.code, (args, exc.code)

rows = os.environ["ROWS"]
command("--help")
command("payouts", "send", "--help")
command("payouts", "send", rows, "--dry-run")
command("payouts", "send", rows, "--journal", os.environ["JOURNAL"],
        "--report", os.environ["JOURNAL"] + ".jsonl")
command("payouts", "list", "--limit", "2")
"""

SCENARIOS = (
    Scenario("core: the SDK, a batch, a journal", frozenset(), _CLIENT),
    Scenario("core on trio", frozenset(), _CLIENT, also=frozenset({"trio"}),
             env=(("BACKEND", "trio"),)),
    Scenario("core: the pytest plugin loads without the sandbox extra", frozenset(),
             "import ecartpay_async.sandbox.pytest_plugin", also=frozenset({"pytest"})),
    Scenario("cli: the command line", frozenset({"cli"}), _COMMANDS),
    Scenario("fast: the aiohttp transport", frozenset({"fast"}), _CLIENT,
             env=(("TRANSPORT", "aiohttp"),)),
    Scenario("sandbox: the emulator, sandbox serve", frozenset({"sandbox"}), """
import anyio
from decimal import Decimal
from ecartpay_async.sandbox import Sandbox
from ecartpay_async.cli import main

# `ecartpay-async sandbox serve` works with this extra alone (click, no rich).
main(["sandbox", "serve", "--help"], prog_name="ecartpay-async", standalone_mode=False)

async def main():
    async with Sandbox() as served, Sandbox(in_process=True) as local:
        for sb in (served, local):
            async with sb.client() as client:
                await client.payouts.create(email="a@example.com", reference_id="deps-1",
                                            amount=Decimal("1.00"), currency="MXN")

anyio.run(main)
"""),
    Scenario("sandbox: the pytest plugin's fixture", frozenset({"sandbox"}), """
import os, pytest
code = pytest.main([os.environ["PLUGIN_TEST"], "-q", "-p", "no:cacheprovider",
                    "-p", "ecartpay_async.sandbox.pytest_plugin"])
assert code == 0, code
""", also=frozenset({"pytest"}), env=(("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1"),)),
    Scenario("all: the README's main job", frozenset({"all"}), """
import os
from ecartpay_async.cli import main
try:
    main(["payouts", "send", os.environ["ROWS"], "--sandbox"], prog_name="ecartpay-async")
except SystemExit as exc:
    assert not exc.code, exc.code
"""),
)

_PLUGIN_TEST = """
def test_the_fixture(ecartpay_sandbox):
    assert ecartpay_sandbox.base_url.startswith("http://127.0.0.1:")
"""


def _extras_in_marker(requirement: Requirement) -> Iterator[str]:
    marker = str(requirement.marker or "")
    for part in marker.split("extra == ")[1:]:
        yield canonicalize_name(part.split()[0].strip("\"')"))


def installed_extras() -> set[str]:
    """The package's extras, as the installed metadata declares them (tooling aside)."""
    return {e for text in requires(PROJECT) or [] for e in _extras_in_marker(Requirement(text))
            } - TOOLING


def imports_of(path: Path) -> set[str]:
    """Top-level names of the absolute imports in a source file, lazy ones included."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def package_modules() -> Iterator[tuple[str, Path]]:
    """Every module of the package, by dotted name."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def scenario_for(extra: str) -> Scenario:
    """For an extra with no scenario of its own: import every module of the package
    that imports one of the extra's distributions."""
    own = {canonicalize_name(Requirement(text).name) for text in requires(PROJECT) or []
           if extra in _extras_in_marker(Requirement(text))}
    packages = {module for module, owners in _module_owners().items() if owners & own}
    modules = [name for name, path in package_modules() if imports_of(path) & packages]
    code = "\n".join(f"import {name}" for name in modules) or "import ecartpay_async"
    return Scenario(f"{extra}: the modules that use it", frozenset({extra}), code)


def all_scenarios() -> tuple[Scenario, ...]:
    covered = {extra for scenario in SCENARIOS for extra in scenario.extras}
    others = sorted(installed_extras() - covered - BUNDLES)
    return SCENARIOS + tuple(scenario_for(extra) for extra in others)


@pytest.fixture(scope="module")
def served() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def absent_modules(allowed: set[str]) -> set[str]:
    """Top-level modules installed here by distributions outside ``allowed``."""
    return {
        module for module, owners in _module_owners().items()
        if module != "ecartpay_async" and module not in sys.stdlib_module_names
        and not owners & allowed
    }


def imported_by(
    scenario: Scenario, allowed: set[str], served: Sandbox, tmp_path: Path
) -> set[str]:
    rows = tmp_path / "rows.csv"
    prefix = "deps-" + "".join(c if c.isalnum() else "-" for c in scenario.name)[:40]
    rows.write_text(
        "email,amount,currency,reference_id\n"
        f"ana@example.com,10.00,MXN,{prefix}-1\nbeto@example.com,2.50,MXN,{prefix}-2\n",
        encoding="utf-8",
    )
    plugin_test = tmp_path / "test_plugin.py"
    plugin_test.write_text(_PLUGIN_TEST, encoding="utf-8")
    out = tmp_path / "imports.json"
    env = {
        **os.environ,
        "ECARTPAY_BASE_URL": served.base_url,
        "ECARTPAY_PUBLIC_KEY": served.public_key,
        "ECARTPAY_PRIVATE_KEY": served.private_key,
        "ROWS": str(rows),
        "JOURNAL": str(tmp_path / "journal.db"),
        "PREFIX": prefix,
        "PLUGIN_TEST": str(plugin_test),
        "IMPORTS_OUT": str(out),
        "ABSENT_MODULES": json.dumps(sorted(absent_modules(allowed))),
        **dict(scenario.env),
    }
    code = _PROBE.format(code=textwrap.dedent(scenario.code))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, (
        f"{scenario.name} fails with only the declared distributions installed "
        f"(\"not declared\" names an import missing from pyproject.toml):\n"
        + result.stdout + result.stderr
    )
    return set(json.loads(out.read_text()))


@pytest.mark.parametrize("scenario", all_scenarios(), ids=lambda s: s.name)
def test_every_import_is_declared_by_its_install(
    scenario: Scenario, served: Sandbox, tmp_path: Path
) -> None:
    allowed = declared_distributions(scenario.extras, also=scenario.also)
    modules = imported_by(scenario, allowed, served, tmp_path)
    extras = f"[{','.join(sorted(scenario.extras))}]" if scenario.extras else ""
    problems = undeclared(modules, allowed)
    assert not problems, (
        f"{scenario.name}: imported but not declared by {PROJECT}{extras}: "
        + "; ".join(problems)
    )


def test_every_import_in_the_source_is_declared_somewhere() -> None:
    """Imports no scenario reaches (a lazy one in a rare path) are declared too."""
    allowed = declared_distributions(frozenset(installed_extras()))
    where: dict[str, str] = {}
    for name, path in package_modules():
        for module in imports_of(path):
            where.setdefault(module, name)
    problems = undeclared(set(where), allowed)
    assert not problems, "imported but declared by no extra: " + "; ".join(
        f"{problem} in {where[problem.split()[0]]}" for problem in problems
    )


def test_the_installed_metadata_is_this_tree_s() -> None:
    """The checks above read the installed metadata: it must be this pyproject.toml's."""
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["project"]
    optional = project.get("optional-dependencies", {})
    project_name = canonicalize_name(PROJECT)

    def flattened(extra: str) -> Iterator[Requirement]:
        # The build backend writes an extra naming this project's other extras
        # ("ecartpay-async[cli,sandbox]") as their requirements.
        for text in optional[extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == project_name:
                for other in sorted(requirement.extras):
                    yield from flattened(other)
            else:
                yield requirement

    def key(requirement: Requirement, extra: str = "") -> tuple[str, str, str]:
        return canonicalize_name(requirement.name), str(requirement.specifier), extra

    written = {key(Requirement(text)) for text in project["dependencies"]}
    written |= {key(r, canonicalize_name(extra)) for extra in optional for r in flattened(extra)}
    installed = set()
    for text in requires(PROJECT) or []:
        requirement = Requirement(text)
        extras = list(_extras_in_marker(requirement)) or [""]
        installed |= {key(requirement, extra) for extra in extras}
    assert installed == written, (
        f"the installed {PROJECT} metadata is not this tree's pyproject.toml: "
        f"reinstall it (pip install -e '.[dev]'); differences: {sorted(installed ^ written)}"
    )
