"""Read the SAM template the way the sandbox pipeline needs it: functions, rules, state machine.

template.yaml is the one description of the deployed stack; the sandbox builds its pieces from it
so that what runs offline is what deploys: the functions' handlers and environment variables, the
EventBridge rules' event patterns and targets, the state machine's definition file and
substitutions. Only the intrinsic functions those parts use are resolved (``Ref``, ``Fn::Sub``,
``Fn::GetAtt``, ``Fn::FindInMap``, ``Fn::Join``, ``Fn::If`` with ``Equals``/``Not``/``And``/
``Or`` conditions); anything else is a :class:`TemplateError` naming where it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "FunctionDef",
    "RuleDef",
    "StackTemplate",
    "StateMachineDef",
    "TemplateError",
    "find_root",
    "load_template",
]

_SHORT_TAGS = (
    "Ref",
    "Condition",
    "Sub",
    "GetAtt",
    "FindInMap",
    "Join",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Select",
    "Split",
    "Base64",
    "Cidr",
    "GetAZs",
    "ImportValue",
    "Transform",
)
_SUB_VAR = re.compile(r"\$\{([^}!]+)\}")


class TemplateError(Exception):
    """template.yaml lacks something the sandbox needs, or uses an intrinsic it cannot resolve."""


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short-form tags (``!Ref X`` -> ``{"Ref": "X"}``)."""


def _tag_constructor(name: str) -> Callable[[_CfnLoader, yaml.Node], Any]:
    key = name if name in ("Ref", "Condition") else f"Fn::{name}"

    def construct(loader: _CfnLoader, node: yaml.Node) -> Any:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return construct


for _name in _SHORT_TAGS:
    _CfnLoader.add_constructor(f"!{_name}", _tag_constructor(_name))


@dataclass(frozen=True)
class FunctionDef:
    """An ``AWS::Serverless::Function``: where its code is and how it is configured."""

    logical_id: str
    code_uri: str
    handler: str
    runtime: str
    timeout: int
    memory: int
    environment: dict[str, str]
    # EventInvokeConfig.MaximumRetryAttempts: Lambda's retries of a failed asynchronous invoke
    # (EventBridge targets are invoked asynchronously); Lambda's default is 2.
    async_retries: int = 2


@dataclass(frozen=True)
class RuleDef:
    """An ``AWS::Events::Rule``: its literal event pattern or schedule, and its target functions."""

    logical_id: str
    event_pattern: dict[str, Any] | None
    schedule: str | None
    targets: tuple[str, ...]  # logical ids of target functions
    enabled: bool = True


@dataclass(frozen=True)
class StateMachineDef:
    logical_id: str
    name: str
    definition_uri: str
    substitutions: dict[str, str]


@dataclass
class StackTemplate:
    """template.yaml with the values one sandbox stack gives its parameters and resources."""

    path: Path
    doc: dict[str, Any]
    stack_name: str = "outpost-mesh"
    account: str = "123456789012"
    region: str = "us-east-1"
    partition: str = "aws"
    parameters: dict[str, str] = field(default_factory=dict)  # overrides of the defaults
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)  # (id, attr) -> GetAtt

    @property
    def root(self) -> Path:
        return self.path.parent

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        found = self.doc.get("Resources") or {}
        return {
            name: res
            for name, res in found.items()
            if isinstance(res, dict) and res.get("Type") == kind
        }

    def parameter(self, name: str) -> str:
        if name in self.parameters:
            return str(self.parameters[name])
        spec = (self.doc.get("Parameters") or {}).get(name)
        if spec is None:
            raise TemplateError(f"{self.path}: no parameter {name}")
        if "Default" not in spec:
            raise TemplateError(f"{self.path}: parameter {name} has no default and no value")
        return str(spec["Default"])

    # -- intrinsic functions ---------------------------------------------------------------
    def resolve(self, value: Any, where: str) -> Any:
        """A value with the intrinsics above resolved; strings, numbers, lists and mappings."""
        if isinstance(value, list):
            return [self.resolve(v, where) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(str(arg), where)
            if key == "Fn::Sub":
                return self._sub(arg, where)
            if key == "Fn::GetAtt":
                parts = arg.split(".", 1) if isinstance(arg, str) else list(arg)
                return self._getatt(str(parts[0]), str(parts[1]), where)
            if key == "Fn::FindInMap":
                table, first, second = (str(self.resolve(a, where)) for a in arg)
                try:
                    return self.doc["Mappings"][table][first][second]
                except KeyError:
                    raise TemplateError(
                        f"{self.path}: {where}: no mapping {table}.{first}.{second}"
                    ) from None
            if key == "Fn::Join":
                sep, items = arg
                return str(sep).join(str(self.resolve(i, where)) for i in items)
            if key == "Fn::If":
                condition, yes, no = arg
                return self.resolve(yes if self.condition(condition) else no, where)
            if key.startswith("Fn::") or key == "Condition":
                raise TemplateError(f"{self.path}: {where}: cannot resolve {key} in the sandbox")
        return {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}

    def condition(self, name: str) -> bool:
        conditions = self.doc.get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"{self.path}: no condition {name}")
        return self._truth(conditions[name], f"Conditions.{name}")

    def _truth(self, value: Any, where: str) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Fn::Equals":
                left, right = (str(self.resolve(a, where)) for a in arg)
                return left == right
            if key == "Fn::Not":
                return not self._truth(arg[0], where)
            if key == "Fn::And":
                return all(self._truth(a, where) for a in arg)
            if key == "Fn::Or":
                return any(self._truth(a, where) for a in arg)
            if key == "Condition":
                return self.condition(str(arg))
        raise TemplateError(f"{self.path}: {where}: unsupported condition {value!r}")

    def _pseudo(self, name: str) -> str | None:
        return {
            "AWS::StackName": self.stack_name,
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": "",
        }.get(name)

    def _ref(self, name: str, where: str) -> str:
        pseudo = self._pseudo(name)
        if pseudo is not None:
            return pseudo
        if name in (self.doc.get("Parameters") or {}) or name in self.parameters:
            return self.parameter(name)
        if name in self.refs:
            return self.refs[name]
        raise TemplateError(f"{self.path}: {where}: the sandbox has no value for !Ref {name}")

    def _getatt(self, name: str, attr: str, where: str) -> str:
        if (name, attr) in self.attrs:
            return self.attrs[(name, attr)]
        raise TemplateError(
            f"{self.path}: {where}: the sandbox has no value for !GetAtt {name}.{attr}"
        )

    def _sub(self, arg: Any, where: str) -> str:
        if isinstance(arg, list):
            text, variables = (
                str(arg[0]),
                {k: str(self.resolve(v, where)) for k, v in dict(arg[1]).items()},
            )
        else:
            text, variables = str(arg), {}

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return variables[name]
            if "." in name and self._pseudo(name) is None:
                res, attr = name.split(".", 1)
                return self._getatt(res, attr, where)
            return self._ref(name, where)

        return _SUB_VAR.sub(one, text)

    # -- the parts the sandbox builds -------------------------------------------------------
    def functions(self) -> dict[str, FunctionDef]:
        """Every serverless function, with Globals applied and its environment resolved."""
        globals_ = ((self.doc.get("Globals") or {}).get("Function")) or {}
        base_env = ((globals_.get("Environment") or {}).get("Variables")) or {}
        found: dict[str, FunctionDef] = {}
        for name, res in self.resources("AWS::Serverless::Function").items():
            props = res.get("Properties") or {}
            env_raw = dict(base_env)
            env_raw.update(((props.get("Environment") or {}).get("Variables")) or {})
            env = {
                k: str(self.resolve(v, f"Resources.{name}.Environment.Variables.{k}"))
                for k, v in env_raw.items()
            }
            code_uri = props.get("CodeUri") or globals_.get("CodeUri")
            if not isinstance(code_uri, str):
                raise TemplateError(f"{self.path}: Resources.{name}: no literal CodeUri")
            found[name] = FunctionDef(
                logical_id=name,
                code_uri=code_uri,
                handler=str(props.get("Handler") or globals_.get("Handler") or "app.handler"),
                runtime=str(props.get("Runtime") or globals_.get("Runtime") or "python3.13"),
                timeout=int(self.resolve(props.get("Timeout") or globals_.get("Timeout", 3), "")),
                memory=int(
                    self.resolve(props.get("MemorySize") or globals_.get("MemorySize", 128), "")
                ),
                environment=env,
                async_retries=int(
                    self.resolve(
                        (props.get("EventInvokeConfig") or {}).get("MaximumRetryAttempts", 2), name
                    )
                ),
            )
        return found

    def rules(self) -> list[RuleDef]:
        """Every EventBridge rule whose targets are functions of this template."""
        functions = self.resources("AWS::Serverless::Function")
        found: list[RuleDef] = []
        for name, res in self.resources("AWS::Events::Rule").items():
            props = res.get("Properties") or {}
            pattern = props.get("EventPattern")
            if pattern is not None and not isinstance(pattern, dict):
                raise TemplateError(f"{self.path}: Resources.{name}.EventPattern is not a mapping")
            if pattern is not None and _has_intrinsic(pattern):
                raise TemplateError(
                    f"{self.path}: Resources.{name}.EventPattern must be a literal mapping "
                    "(the sandbox applies it as written)"
                )
            schedule = props.get("ScheduleExpression")
            targets: list[str] = []
            for target in props.get("Targets") or []:
                arn = target.get("Arn")
                if isinstance(arn, dict) and "Fn::GetAtt" in arn:
                    ref = arn["Fn::GetAtt"]
                    logical = ref[0] if isinstance(ref, list) else str(ref).split(".")[0]
                    if logical in functions:
                        targets.append(str(logical))
            found.append(
                RuleDef(
                    logical_id=name,
                    event_pattern=pattern,
                    schedule=None if schedule is None else str(self.resolve(schedule, name)),
                    targets=tuple(targets),
                    enabled=str(props.get("State", "ENABLED")) == "ENABLED",
                )
            )
        return found

    def state_machine(self) -> StateMachineDef:
        machines = self.resources("AWS::Serverless::StateMachine")
        if len(machines) != 1:
            raise TemplateError(f"{self.path}: expected one state machine, got {len(machines)}")
        ((name, res),) = machines.items()
        props = res.get("Properties") or {}
        uri = props.get("DefinitionUri")
        if not isinstance(uri, str):
            raise TemplateError(f"{self.path}: Resources.{name}: no literal DefinitionUri")
        machine_name = self.resolve(props.get("Name") or f"{self.stack_name}-{name}", name)
        subs_raw = props.get("DefinitionSubstitutions") or {}
        subs = {
            k: str(self.resolve(v, f"Resources.{name}.DefinitionSubstitutions.{k}"))
            for k, v in subs_raw.items()
        }
        return StateMachineDef(name, str(machine_name), uri, subs)


def _has_intrinsic(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            k == "Ref" or k.startswith("Fn::") or _has_intrinsic(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_has_intrinsic(v) for v in value)
    return False


def find_root(start: Path | None = None) -> Path:
    """The project directory: the first parent holding template.yaml and statemachine/."""
    here = (start or Path(__file__)).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "template.yaml").is_file() and (candidate / "statemachine").is_dir():
            return candidate
    cwd = Path.cwd()
    if (cwd / "template.yaml").is_file():
        return cwd
    raise TemplateError("cannot find the project's template.yaml (run from the project directory)")


def load_template(path: str | Path, **values: Any) -> StackTemplate:
    """Parse template.yaml (CloudFormation tags understood); ``values`` go to StackTemplate."""
    source = Path(path)
    try:
        doc = yaml.load(source.read_text(encoding="utf-8"), Loader=_CfnLoader)
    except (OSError, yaml.YAMLError) as error:
        raise TemplateError(f"{source}: cannot read the template: {error}") from error
    if not isinstance(doc, Mapping):
        raise TemplateError(f"{source}: not a template (expected a mapping)")
    return StackTemplate(path=source, doc=dict(doc), **values)
