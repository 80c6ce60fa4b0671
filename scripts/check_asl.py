#!/usr/bin/env python3
"""Check every state machine definition that template.yaml loads from a file (DefinitionUri).

cfn-lint does not look inside a definition given by DefinitionUri, and the file is not valid JSON
until SAM fills its ``${...}`` placeholders from DefinitionSubstitutions. This script:

1. checks that the placeholders in the file and the DefinitionSubstitutions keys are the same set;
2. fills them the way a deployment would: a function's ``!GetAtt X.Arn`` (or ``!Ref X``) becomes a
   Lambda ARN, a ``!Ref Parameter`` becomes the parameter's Default, then its MinValue and
   MaxValue (one definition each), a literal stays itself;
3. parses each result as JSON and validates it with statelint (PyPI, the Python port of
   awslabs/statelint), and, with ``--asl-validator``, also with the npm asl-validator run through
   ``npx --yes`` (JSON-schema and JSONPath checks statelint does not make).

Offline; needs only cfn-lint (comes with aws-sam-cli), statelint, and for ``--asl-validator``
Node.js with access to the npm registry on first use. Exit status 0 when every check passes.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ASL_VALIDATOR = "asl-validator@4.0.0"
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
FAKE_ACCOUNT = "123456789012"
FAKE_REGION = "us-east-1"
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


class CheckError(Exception):
    """A problem with the template or a definition: reported, then the script fails."""


def load_template(path: Path) -> dict[str, Any]:
    """template.yaml as plain data, CloudFormation short tags (!Ref, !GetAtt...) understood."""
    from cfnlint.decode.cfn_yaml import load  # type: ignore[import-untyped]

    data = load(str(path))
    plain: dict[str, Any] = json.loads(json.dumps(data))  # cfn-lint's nodes -> dict/list/str
    return plain


@dataclass(frozen=True)
class StateMachineFile:
    logical_id: str
    path: Path
    substitutions: dict[str, Any]


def state_machine_files(template: dict[str, Any], base: Path) -> list[StateMachineFile]:
    found = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::StateMachine":
            continue
        props = resource.get("Properties", {})
        uri = props.get("DefinitionUri")
        if not isinstance(uri, str):
            continue
        found.append(
            StateMachineFile(logical_id, base / uri, dict(props.get("DefinitionSubstitutions", {})))
        )
    return found


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _function_arn(template: dict[str, Any], logical_id: str) -> str:
    resource = template.get("Resources", {}).get(logical_id)
    if resource is None:
        raise CheckError(f"{logical_id} is not a resource of the template")
    if resource.get("Type") not in FUNCTION_TYPES:
        raise CheckError(f"{logical_id} is a {resource.get('Type')}, not a Lambda function")
    return f"arn:aws:lambda:{FAKE_REGION}:{FAKE_ACCOUNT}:function:{logical_id}"


def resolve(template: dict[str, Any], key: str, value: Any, bound: str) -> str:
    """The text a deployment would put in place of ``${key}``; bound: Default|MinValue|MaxValue."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Fn::GetAtt":
            target, attr = arg if isinstance(arg, list) else str(arg).split(".", 1)
            if attr != "Arn":
                raise CheckError(f"{key}: !GetAtt {target}.{attr} is not an ARN")
            return _function_arn(template, target)
        if fn == "Ref":
            parameter = template.get("Parameters", {}).get(arg)
            if parameter is None:
                return _function_arn(template, arg)  # !Ref of a function is its name: ok for ASL
            for attr in (bound, "Default"):
                if attr in parameter:
                    return str(parameter[attr])
            raise CheckError(f"{key}: parameter {arg} has no Default")
        if fn == "Fn::FindInMap" and isinstance(arg, list) and len(arg) == 3:
            mapping, top, second = arg
            top_key = resolve(template, key, top, bound) if isinstance(top, dict) else str(top)
            entry = template.get("Mappings", {}).get(mapping, {}).get(top_key, {})
            if second not in entry:
                raise CheckError(f"{key}: no {mapping}.{top_key}.{second} in Mappings")
            return str(entry[second])
    raise CheckError(f"{key}: cannot resolve {json.dumps(value)}")


def bounds_for(template: dict[str, Any], substitutions: dict[str, Any]) -> list[str]:
    """Default always; MinValue/MaxValue too when a substituted parameter declares them."""
    wanted = ["Default"]
    for value in substitutions.values():
        if isinstance(value, dict) and "Ref" in value:
            parameter = template.get("Parameters", {}).get(value["Ref"], {})
            for attr in ("MinValue", "MaxValue"):
                if attr in parameter and attr not in wanted:
                    wanted.append(attr)
    return wanted


def substituted(template: dict[str, Any], machine: StateMachineFile) -> Iterator[tuple[str, str]]:
    """(label, definition text) for every bound, after checking the placeholder sets match."""
    text = machine.path.read_text(encoding="utf-8")
    used = placeholders(text)
    given = set(machine.substitutions)
    missing = sorted(used - given)
    unused = sorted(given - used)
    if missing:
        raise CheckError(
            f"{machine.logical_id}: {machine.path.name} uses ${{...}} not in "
            f"DefinitionSubstitutions: {', '.join(missing)}"
        )
    if unused:
        raise CheckError(
            f"{machine.logical_id}: DefinitionSubstitutions not used by {machine.path.name}: "
            f"{', '.join(unused)}"
        )
    for bound in bounds_for(template, machine.substitutions):
        values = {k: resolve(template, k, v, bound) for k, v in machine.substitutions.items()}
        yield bound, PLACEHOLDER.sub(lambda m: values[m.group(1)], text)  # noqa: B023 (used now)


def statelint_problems(definition: str) -> list[str]:
    """statelint's problems, less FLOAT: it wants BackoffRate written ``2.0``, but JSON numbers
    have no integer/float distinction and Step Functions accepts ``2`` (statelint's own CLI lists
    FLOAT as ignorable)."""
    from statelint.config import Config  # type: ignore[import-untyped]
    from statelint.linter import Linter  # type: ignore[import-untyped]
    from statelint.problem import ProblemType  # type: ignore[import-untyped]

    return list(Linter.validate(definition, Config({ProblemType.FLOAT})))


def asl_validator_problems(definitions: dict[str, str]) -> list[str]:
    """asl-validator's problems for {label: definition}, in one npx run (its start-up dominates)."""
    npx = shutil.which("npx")
    if npx is None:
        return ["npx not found: install Node.js (or run without --asl-validator)"]
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        command = [npx, "--yes", ASL_VALIDATOR]
        for number, (label, definition) in enumerate(definitions.items()):
            path = Path(tmp) / f"definition-{number}.asl.json"
            path.write_text(definition, encoding="utf-8")
            paths[str(path)] = label
            command += ["--json-path", str(path)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode == 0:
        return []
    problems = []
    for raw in (done.stdout + done.stderr).splitlines():
        line = raw.strip()
        if not line:
            continue
        for path, label in paths.items():
            line = line.replace(path, label)
        problems.append(f"asl-validator: {line}")
    return problems


def check(template_path: Path, use_asl_validator: bool) -> list[str]:
    template = load_template(template_path)
    machines = state_machine_files(template, template_path.parent)
    if not machines:
        return [f"{template_path}: no AWS::Serverless::StateMachine with a DefinitionUri"]
    errors: list[str] = []
    parsed: dict[str, str] = {}
    for machine in machines:
        try:
            variants = list(substituted(template, machine))
        except (CheckError, OSError) as error:
            errors.append(str(error))
            continue
        for bound, definition in variants:
            label = f"{machine.logical_id} ({machine.path.name}, parameters at {bound})"
            try:
                json.loads(definition)
            except json.JSONDecodeError as error:
                errors.append(f"{label}: not JSON after substitution: {error}")
                continue
            parsed[label] = definition
            errors.extend(f"{label}: statelint: {p}" for p in statelint_problems(definition))
            print(f"checked {label} with statelint")
    if use_asl_validator and parsed:
        errors.extend(asl_validator_problems(parsed))
        print(f"checked {len(parsed)} definition(s) with {ASL_VALIDATOR}")
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument(
        "--asl-validator",
        action="store_true",
        help=f"also run npm's {ASL_VALIDATOR} through npx (needs Node.js)",
    )
    args = parser.parse_args(argv)
    errors = check(args.template, args.asl_validator)
    for error in errors:
        print(f"ERROR {error}", file=sys.stderr)
    if not errors:
        print("state machine definitions: OK")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
