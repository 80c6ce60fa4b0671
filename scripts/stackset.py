#!/usr/bin/env python3
"""What a service-managed CloudFormation StackSet deploys to every member account: the member
stack (template.yaml) translated offline into plain CloudFormation, and its Lambda artifacts.

StackSets' default service-managed execution role cannot run transforms such as SAM's
(CloudFormation User Guide, "Configure a custom execution role template for StackSets"). This
script runs the SAM translator library that ``sam`` itself runs (``samtranslator``) here instead,
so the StackSet gets a template with no ``Transform`` and no ``AWS::Serverless::`` resource
(docs/architecture.md, "Organization-wide", says why this and not the custom role):

1. every function's and the layer's ``sam build`` output (``--build-dir``) is zipped the same way
   every time (sorted entries, fixed timestamps and modes) into ``OUT/artifacts/<LogicalId>-<sha256
   prefix>.zip``: the key changes exactly when the content does, so an updated StackSet updates
   exactly the functions whose code changed;
2. template.yaml is translated with each function's code and the layer's content read from
   ``s3://${ArtifactsBucketPrefix}-${AWS::Region}/outpost-mesh/<zip>`` (a new parameter: Lambda
   reads code only from a bucket in the function's own Region, docs/aws-facts.md, "Accounts and
   sharing"), and the state machine's definition inline (``DefinitionString`` with the same
   ``DefinitionSubstitutions``);
3. ``OUT/member.json`` is written and the upload and deploy commands are printed.

Offline: no AWS call, no credentials. ``make stackset`` runs ``sam build`` first, then this, then
cfn-lint on the result. tests/test_org_templates.py runs the translation and the packaging.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import sys
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
BUILD_DIR = ROOT / ".aws-sam" / "build"
OUT_DIR = ROOT / ".aws-sam" / "stackset"

BUCKET_PARAMETER = "ArtifactsBucketPrefix"
# One bucket per Region, named like artifacts-bucket.yaml names it.
ARTIFACTS_BUCKET = {"Fn::Sub": "${" + BUCKET_PARAMETER + "}-${AWS::Region}"}
KEY_PREFIX = "outpost-mesh/"  # what artifacts-bucket.yaml lets the Organization read
HASH_CHARS = 16
# The translator needs a Region only for its partition: it writes AWS managed policy ARNs
# (AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess) as literal arn:aws:... strings, so the
# member StackSet targets Regions of the aws partition.
PARTITION_REGION = "us-east-1"
# CloudFormation reads a StackSet template larger than TemplateBody's 51,200 bytes from S3
# (TemplateURL); AWS's quotas page gives 1 MB there, older API references 460,800 bytes: the
# smaller figure is the one held (docs/aws-facts.md, "Accounts and sharing").
TEMPLATE_URL_MAX_BYTES = 460_800
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can carry
FILE_MODE = 0o100644 << 16  # regular file, rw-r--r--: Lambda needs read only

# SAM resource type -> the property holding its local code folder.
CODE_PROPERTY = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


class StackSetError(Exception):
    """The template, the build or the translation is not what the StackSet needs."""


def load_template(path: Path) -> dict[str, Any]:
    """A CloudFormation/SAM template as plain data, short tags (!Ref, !Sub...) understood."""
    from cfnlint.decode.cfn_yaml import load  # type: ignore[import-untyped]

    plain: dict[str, Any] = json.loads(json.dumps(load(str(path))))
    return plain


def code_resources(template: Mapping[str, Any]) -> dict[str, str]:
    """Logical id -> local code folder of every function and layer built from this repo."""
    found = {}
    for logical_id, resource in template.get("Resources", {}).items():
        prop = CODE_PROPERTY.get(resource.get("Type", ""))
        folder = resource.get("Properties", {}).get(prop) if prop else None
        if isinstance(folder, str):
            found[logical_id] = folder
    return found


# -- packaging --------------------------------------------------------------------------------
def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield path


def zip_folder(folder: Path) -> bytes:
    """The folder's files as a zip, byte for byte the same for the same content."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _files(folder):
            entry = zipfile.ZipInfo(path.relative_to(folder).as_posix(), ZIP_TIMESTAMP)
            entry.external_attr = FILE_MODE
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes())
    return buffer.getvalue()


def artifact_key(logical_id: str, content: bytes) -> str:
    return f"{KEY_PREFIX}{logical_id}-{hashlib.sha256(content).hexdigest()[:HASH_CHARS]}.zip"


def package(build_dir: Path, logical_ids: list[str], artifacts_dir: Path) -> dict[str, str]:
    """Zip each resource's build output into ``artifacts_dir``; logical id -> its S3 key."""
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    for old in artifacts_dir.glob("*.zip"):  # a previous build's: `aws s3 sync` would upload them
        old.unlink()
    keys = {}
    for logical_id in logical_ids:
        folder = build_dir / logical_id
        if not folder.is_dir() or not any(_files(folder)):
            raise StackSetError(f"{folder}: no build output (run `make build` first)")
        content = zip_folder(folder)
        keys[logical_id] = artifact_key(logical_id, content)
        (artifacts_dir / keys[logical_id].removeprefix(KEY_PREFIX)).write_bytes(content)
    return keys


# -- translation ------------------------------------------------------------------------------
class _NoManagedPolicyNames:
    """The template names managed policies by ARN only: nothing to look up in IAM."""

    def load(self) -> dict[str, str]:
        return {}


def translate(template: Mapping[str, Any], keys: Mapping[str, str], base: Path) -> dict[str, Any]:
    """``template`` (SAM) as plain CloudFormation, code from the artifacts bucket under ``keys``
    (logical id -> S3 key), state machine definitions read from ``base`` and inlined."""
    import boto3
    from samtranslator.parser.parser import Parser  # type: ignore[import-untyped]
    from samtranslator.translator.arn_generator import (  # type: ignore[import-untyped]
        ArnGenerator,
    )
    from samtranslator.translator.translator import Translator  # type: ignore[import-untyped]
    from samtranslator.utils.py27hash_fix import (  # type: ignore[import-untyped]
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    sam = copy.deepcopy(dict(template))
    missing = set(code_resources(sam)) - set(keys)
    if missing:
        raise StackSetError(f"no artifact for {sorted(missing)}")
    sam.setdefault("Parameters", {})[BUCKET_PARAMETER] = {
        "Type": "String",
        "AllowedPattern": "^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$",
        "Description": (
            "The artifacts buckets' name without its Region (artifacts-bucket.yaml's "
            "ArtifactsBucketPrefix): code is read from <prefix>-<Region>."
        ),
    }
    for logical_id, key in keys.items():
        resource = sam["Resources"][logical_id]
        resource["Properties"][CODE_PROPERTY[resource["Type"]]] = {
            "Bucket": ARTIFACTS_BUCKET,
            "Key": key,
        }
    definitions = {}
    for logical_id, resource in sam["Resources"].items():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
            definitions[logical_id] = (base / props["DefinitionUri"]).read_text(encoding="utf-8")
            props["DefinitionUri"] = {"Bucket": "inlined-below", "Key": props["DefinitionUri"]}
    # What samtranslator.translator.transform.transform does, with a session naming the Region
    # (no AWS call: the session is only asked its region_name). Translator sets a class-wide
    # Region; it is put back.
    saved = ArnGenerator.BOTO_SESSION_REGION_NAME
    try:
        to_py27_compatible_template(sam, {})
        translator = Translator(
            None, Parser(), boto_session=boto3.session.Session(region_name=PARTITION_REGION)
        )
        plain: dict[str, Any] = undo_mark_unicode_str_in_template(
            translator.translate(
                sam, parameter_values={}, get_managed_policy_map=_NoManagedPolicyNames().load
            )
        )
    finally:
        ArnGenerator.BOTO_SESSION_REGION_NAME = saved
    for logical_id, text in definitions.items():
        props = plain["Resources"][logical_id]["Properties"]
        del props["DefinitionS3Location"]
        props["DefinitionString"] = text
    return plain


def problems(plain: Mapping[str, Any], keys: Mapping[str, str]) -> list[str]:
    """What would make ``plain`` wrong for a StackSet with the default execution role."""
    found = [] if "Transform" not in plain else ["a Transform is left"]
    resources = plain.get("Resources", {})
    found += [f"{k}: {v['Type']} left" for k, v in resources.items() if "Serverless" in v["Type"]]
    code = {
        logical_id: props.get("Code") or props.get("Content")
        for logical_id, resource in resources.items()
        if resource["Type"] in ("AWS::Lambda::Function", "AWS::Lambda::LayerVersion")
        for props in [resource.get("Properties", {})]
    }
    used = set()
    for logical_id, location in code.items():
        bucket = (location or {}).get("S3Bucket")
        key = (location or {}).get("S3Key")
        if bucket != ARTIFACTS_BUCKET or key not in keys.values():
            found.append(f"{logical_id}: code not from the artifacts bucket ({location})")
        else:
            used.add(key)
    found += [f"artifact {k} is not used" for k in sorted(set(keys.values()) - used)]
    size = len(render(plain))
    if size > TEMPLATE_URL_MAX_BYTES:
        found.append(f"{size} bytes, over the {TEMPLATE_URL_MAX_BYTES} a TemplateURL takes")
    return found


def render(plain: Mapping[str, Any]) -> bytes:
    return (json.dumps(plain, indent=1, sort_keys=True) + "\n").encode("utf-8")


# -- the command ------------------------------------------------------------------------------
def build(template_path: Path, build_dir: Path, out_dir: Path) -> tuple[Path, dict[str, str]]:
    """Package and translate; returns the member template's path and the artifact keys."""
    template = load_template(template_path)
    keys = package(build_dir, sorted(code_resources(template)), out_dir / "artifacts")
    plain = translate(template, keys, template_path.parent)
    wrong = problems(plain, keys)
    if wrong:
        raise StackSetError("; ".join(wrong))
    member = out_dir / "member.json"
    member.write_bytes(render(plain))
    return member, keys


def next_steps(member: Path, keys: Mapping[str, str]) -> str:
    content = member.read_bytes()
    template_key = f"{KEY_PREFIX}member-{hashlib.sha256(content).hexdigest()[:HASH_CHARS]}.json"
    artifacts = member.parent / "artifacts"
    return "\n".join(
        [
            f"{member} ({len(content):,} bytes, {len(keys)} artifacts in {artifacts}/)",
            "Next (README, 'Organization-wide'), for every target Region R of the StackSet:",
            f"  aws s3 sync {artifacts}/ s3://PREFIX-R/{KEY_PREFIX} --region R",
            "and once, in the StackSet's home Region H:",
            f"  aws s3 cp {member} s3://PREFIX-H/{template_key} --region H",
            f"  TemplateURL: https://PREFIX-H.s3.H.amazonaws.com/{template_key}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    try:
        member, keys = build(args.template, args.build_dir, args.out)
    except (StackSetError, OSError) as error:
        print(f"stackset: {error}", file=sys.stderr)
        return 1
    print(next_steps(member, keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
