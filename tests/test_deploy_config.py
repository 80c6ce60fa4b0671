"""What the README's deploy path promises, held to the files (issue 14, items 14 and 15):
`sam deploy` with samconfig.toml asks nothing but the change set, the CLI's default stack is the
default environment's, every --parameter-overrides the docs show names a real parameter and value,
and every `make TARGET` the docs name is a target of the Makefile (and the other way round)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from outpost_mesh_cli.aws import DEFAULT_STACK
from outpost_mesh_sandbox.stack.template import load_template

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]


@pytest.fixture(scope="module")
def parameters() -> dict[str, Any]:
    doc = load_template(ROOT / "template.yaml").doc
    return dict(doc["Parameters"])


def samconfig(env: str) -> dict[str, Any]:
    """An environment's deploy parameters as SAM CLI itself reads samconfig.toml."""
    from samcli.lib.config.samconfig import SamConfig

    config = SamConfig(str(ROOT), "samconfig.toml")
    return dict(config.get_all(["deploy"], "parameters", env=env))


def check_override(parameters: dict[str, Any], pair: str) -> None:
    key, _, value = pair.partition("=")
    assert key in parameters, f"{pair}: no parameter {key}"
    allowed = parameters[key].get("AllowedValues")
    if allowed is not None:
        assert value in [str(v) for v in allowed], f"{pair}: not one of {allowed}"


def test_every_parameter_has_a_default_so_sam_deploy_asks_for_none(
    parameters: dict[str, Any],
) -> None:
    assert [name for name, spec in parameters.items() if "Default" not in spec] == []


def test_the_default_environment_is_the_cli_default_stack_and_overrides_nothing() -> None:
    default = samconfig("default")
    assert default["stack_name"] == DEFAULT_STACK
    assert default["confirm_changeset"] is True and default["resolve_s3"] is True
    assert "parameter_overrides" not in default  # it would be applied again at every deploy
    assert "region" not in default  # the profile's


def test_the_prod_environment_overrides_real_parameters(parameters: dict[str, Any]) -> None:
    prod = samconfig("prod")
    assert prod["stack_name"] == "outpost-mesh-prod"
    for pair in prod["parameter_overrides"]:
        check_override(parameters, pair)
    assert "ReportOnly=true" in prod["parameter_overrides"]


@pytest.mark.parametrize("env", ["default", "prod"])
def test_capabilities_cover_named_iam_resources(env: str) -> None:
    template = load_template(ROOT / "template.yaml").doc
    named = [
        name
        for name, resource in template["Resources"].items()
        if str(resource.get("Type", "")).startswith("AWS::IAM::")
        and any(k.endswith("Name") for k in resource.get("Properties", {}))
    ]
    capabilities = samconfig(env)["capabilities"].split()
    assert "CAPABILITY_IAM" in capabilities
    if named:
        assert "CAPABILITY_NAMED_IAM" in capabilities, named


def test_the_readme_s_sam_deploy_overrides_name_real_parameters(parameters: dict[str, Any]) -> None:
    text = README.read_text(encoding="utf-8")
    commands = re.findall(r"sam deploy[^\n`]*--parameter-overrides ([^\n`]+)", text)
    assert len(commands) >= 2  # the first deploy, report-only, and switching it off
    for args in commands:
        for pair in shlex.split(args):
            if "=" in pair:
                check_override(parameters, pair)
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        assert "--guided" not in block  # it asks every parameter and may rewrite samconfig.toml


# -- make targets -------------------------------------------------------------------------------
def phony_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (line,) = re.findall(r"^\.PHONY:(.*)$", makefile, flags=re.MULTILINE)
    return set(line.split())


def test_every_make_target_the_docs_name_exists() -> None:
    targets = phony_targets()
    for path in DOCS:
        named = set(re.findall(r"`make ([a-z][a-z-]*)", path.read_text(encoding="utf-8")))
        assert named <= targets, f"{path.name}: {sorted(named - targets)}"


def test_the_readme_and_make_help_list_every_target() -> None:
    targets = phony_targets() - {"help"}
    readme = README.read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `make ([a-z][a-z-]*)` \|", readme, flags=re.MULTILINE))
    assert rows == targets
    shown = subprocess.run(
        ["make", "--no-print-directory", "-s", "help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert set(re.findall(r"^make ([a-z][a-z-]*)", shown, flags=re.MULTILINE)) == targets
