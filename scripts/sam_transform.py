#!/usr/bin/env python3
"""Runs SAM's real transform (samtranslator, the code CloudFormation's AWS::Serverless-2016-10-31
transform runs) on template.yaml and prints the resulting CloudFormation template as JSON.

Before transforming, it does what `sam package` does to local paths: each state machine's
DefinitionUri file is inlined as Definition (so the output carries the workflow, and cfn-lint can
check it), and each function's CodeUri becomes an S3 location. Run it with the interpreter of the
.tools/sam virtualenv (scripts/check_deploy.sh installs it):

    .tools/sam/bin/python scripts/sam_transform.py [template.yaml] [-o out.json]
"""

import argparse
import json
import os
import sys
from pathlib import Path

import yaml
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform

# The bucket `sam package` would upload to; only its shape matters here.
ARTIFACT_BUCKET = "dr-orchestrator-artifacts"


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags, read into their long (JSON) form."""


def _short_form(loader, tag_suffix, node):
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _short_form)


def load(path):
    return yaml.load(Path(path).read_text(), Loader=CfnLoader)


def package(template, root):
    """Replaces local paths the way `sam package` does, without uploading anything."""
    for name, resource in template.get("Resources", {}).items():
        props = resource.setdefault("Properties", {})
        if resource["Type"] == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            props["Definition"] = json.loads((root / props.pop("DefinitionUri")).read_text())
        if resource["Type"] == "AWS::Serverless::Function":
            binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary", name)
            props["CodeUri"] = {"Bucket": ARTIFACT_BUCKET, "Key": f"{binary}.zip"}
    return template


class NoNetworkPolicyLoader:
    """Managed policy names resolve from samtranslator's bundled map; never ask IAM."""

    def load(self):
        return {}


def transformed(path="template.yaml"):
    # The transform fills AWS::Region into the ARNs it builds; the deployment check uses eu-west-1.
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    path = Path(path).resolve()
    return transform(package(load(path), path.parent), {}, NoNetworkPolicyLoader())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", nargs="?", default="template.yaml")
    parser.add_argument("-o", "--output", help="write here instead of standard output")
    args = parser.parse_args()
    try:
        result = transformed(args.template)
    except InvalidDocumentException as e:
        for cause in e.causes:
            print(f"SAM transform: {cause.message}", file=sys.stderr)
        return 1
    text = json.dumps(result, indent=2, sort_keys=False) + "\n"
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
