"""The template as CloudFormation deploys it: template.yaml through SAM's real transform
(scripts/sam_transform.py, run with the .tools/sam virtualenv that scripts/check_deploy.sh
installs), once per session, and a small evaluator of its parameters and conditions."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAM_PYTHON = Path(os.environ.get("DR_SAM_PYTHON", ROOT / ".tools" / "sam" / "bin" / "python"))

# What the evaluator fills in for pseudo parameters.
ACCOUNT = "123456789012"  # moto's default account, so that patterns match moto's events
REGION = "eu-west-1"
STACK = "dr-orchestrator"
PSEUDO = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws", "AWS::StackName": STACK,
          "AWS::URLSuffix": "amazonaws.com"}


def _transform():
    if not SAM_PYTHON.exists():
        # A fresh machine: the deployment check's own install of aws-sam-cli (samtranslator).
        subprocess.run(["bash", str(ROOT / "scripts" / "check_deploy.sh"), "--tools-only"], check=True, cwd=ROOT)
    done = subprocess.run([str(SAM_PYTHON), str(ROOT / "scripts" / "sam_transform.py"), str(ROOT / "template.yaml")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, f"SAM's transform rejects template.yaml:\n{done.stderr}"
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def transformed():
    return _transform()


NO_VALUE = object()


class Stack:
    """The transformed template with parameter values: conditions decided, Fn::If chosen,
    parameters and pseudo parameters filled in. References to resources stay as they are."""

    def __init__(self, template, **overrides):
        self.template = template
        self.params = {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}
        unknown = set(overrides) - set(self.params)
        assert not unknown, f"no such parameters: {unknown}"
        self.params.update({k: str(v) for k, v in overrides.items()})
        self.conditions = {}
        for name in template.get("Conditions", {}):
            self.condition(name)
        self.resources = {name: self.resolve(r) for name, r in template["Resources"].items()
                          if "Condition" not in r or self.conditions[r["Condition"]]}

    def condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = self.resolve(self.template["Conditions"][name])
        return self.conditions[name]

    def of_type(self, kind):
        return {n: r for n, r in self.resources.items() if r["Type"] == kind}

    def resolve(self, value):
        if isinstance(value, list):
            return [v for v in (self.resolve(x) for x in value) if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                if arg == "AWS::NoValue":
                    return NO_VALUE
                if arg in PSEUDO:
                    return PSEUDO[arg]
                if arg in self.params:
                    return self.params[arg]
                return value
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Equals":
                a, b = (self.resolve(x) for x in arg)
                return str(a) == str(b)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(x) for x in arg)
            if key == "Fn::Or":
                return any(self.resolve(x) for x in arg)
            if key == "Fn::If":
                name, then, otherwise = arg
                return self.resolve(then if self.condition(name) else otherwise)
            if key == "Fn::Sub":
                text, names = (arg, {}) if isinstance(arg, str) else arg
                names = {k: self.resolve(v) for k, v in names.items()}

                def fill(m):
                    name = m.group(1)
                    known = {**PSEUDO, **self.params, **names}
                    v = known.get(name)
                    return str(v) if isinstance(v, (str, int)) else m.group(0)

                return re.sub(r"\$\{([A-Za-z0-9:._]+)\}", fill, text)
        out = {}
        for k, v in value.items():
            v = self.resolve(v)
            if v is not NO_VALUE:
                out[k] = v
        return out


@pytest.fixture(scope="session")
def stack(transformed):
    """The stack as deployed with every parameter at its default."""
    return Stack(transformed)


@pytest.fixture(scope="session")
def make_stack(transformed):
    return lambda **overrides: Stack(transformed, **overrides)
