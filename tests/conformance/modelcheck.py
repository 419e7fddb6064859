"""What the conformance tests share: a boto3 client for the local endpoint, and the check of a
raw response body against the botocore service model (no field the model does not have, every
enum value, pattern and length limit, every required member)."""

import json
import re

import boto3
import botocore.session
from botocore.config import Config


def client(service, url):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="eu-west-1",
        aws_access_key_id="AKIDLOCAL",
        aws_secret_access_key="local",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


MODELS = {s: botocore.session.get_session().get_service_model(s) for s in ("drs", "backup")}


def conform(value, shape, path="$"):
    """Checks a raw JSON value against a botocore shape; returns a list of problems."""
    problems = []
    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        wire = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()
                if m.serialization.get("location") is None}
        for key, item in value.items():
            if key not in wire:
                problems.append(f"{path}.{key}: not in the model's {shape.name}")
            else:
                problems += conform(item, wire[key][1], f"{path}.{key}")
        for req in shape.required_members:
            if req not in value:
                problems.append(f"{path}: required {req} missing")
    elif t == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        for i, item in enumerate(value):
            problems += conform(item, shape.member, f"{path}[{i}]")
    elif t == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map"]
        for k, v in value.items():
            problems += conform(k, shape.key, f"{path}<key>")
            problems += conform(v, shape.value, f"{path}.{k}")
    elif t == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string"]
        if "enum" in meta and value not in meta["enum"]:
            problems.append(f"{path}: {value!r} not in enum {shape.name}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"].strip("^$"), value):
            problems.append(f"{path}: {value!r} does not match {meta['pattern']}")
        if "min" in meta and len(value) < meta["min"] or "max" in meta and len(value) > meta["max"]:
            problems.append(f"{path}: length {len(value)} outside {meta.get('min')}..{meta.get('max')}")
    elif t == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean")
    elif t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: expected an integer")
    elif t == "timestamp":
        if not isinstance(value, (int, float)):
            problems.append(f"{path}: expected epoch seconds")
    return problems


class Recorder:
    """Keeps the raw body and status of the last response of a client."""

    def __init__(self, c):
        self.last = None
        c.meta.events.register("before-parse", self.keep)

    def keep(self, operation_model, response_dict, **_):
        self.last = (operation_model, response_dict)

    def check(self, expect_status=None):
        op, resp = self.last
        body = json.loads(resp["body"] or b"{}")
        if expect_status is not None:
            assert resp["status_code"] == expect_status, (op.name, resp["status_code"])
        if resp["status_code"] < 300:
            assert resp["status_code"] == op.http.get("responseCode", 200), op.name
            problems = conform(body, op.output_shape) if op.output_shape else []
        else:
            error_type = resp["headers"]["x-amzn-errortype"]
            shape = next(s for s in op.service_model.error_shapes if s.name == error_type)
            problems = conform(body, shape)
        assert not problems, "\n".join(problems)
        return body
