#!/usr/bin/env python3
"""Validates every message in Protocol/examples/*.json against Protocol/schema/*.json.

Placeholders (see examples/README.md) are replaced by a sample value of the right type,
chosen by the member name, before validation. Needs the `jsonschema` package.
Exit status 0 when every message validates.
"""
import json
import pathlib
import sys

import jsonschema

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMAS = {p.stem: json.loads(p.read_text()) for p in (ROOT / "schema").glob("*.json")}
SAMPLES = {
    "seq": 1, "lastSeq": 1, "call": 1, "messageId": 1, "before": 1, "lastSeen": 1, "sentAt": 1,
    "heartbeatSeconds": 25, "resumeWindowSeconds": 30, "signInTimeoutSeconds": 10,
    "limits": {"messageBytes": 1, "requestIdBytes": 1, "bodyBytes": 1, "clientMessageIdBytes": 1,
               "payloadBytes": 1, "usersPerSubscribe": 1, "historyLimit": 1},
    "session": "1", "resumeToken": "1." + "0" * 32,
}


def filled(value, key=None):
    if isinstance(value, dict):
        return {k: filled(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [filled(v, key) for v in value]
    if isinstance(value, str) and value.startswith("$"):
        return SAMPLES.get(key, "sample")
    return value


def schema_for(message, direction, sent_ops):
    if direction == "send":
        return "op." + message.get("op", "?")
    if "seq" in message:
        return "event." + message.get("type", "?")
    kind = message.get("type")
    if kind in ("hello", "closing", "error"):
        return kind
    op = sent_ops.get(message.get("id"))
    return "reply." + op if "reply." + str(op) in SCHEMAS else "reply.ok"


def main():
    failures = 0
    for path in sorted((ROOT / "examples").glob("*.json")):
        sent_ops = {}
        for number, step in enumerate(json.loads(path.read_text()), 1):
            for direction in ("send", "expect"):
                if direction not in step:
                    continue
                message = filled(step[direction])
                if direction == "send":
                    sent_ops[message.get("id")] = message.get("op")
                name = schema_for(message, direction, sent_ops)
                schema = SCHEMAS.get(name)
                if schema is None and direction == "send" and "05-bad-input" in path.name:
                    continue  # an unknown op, on purpose
                if schema is None:
                    print(f"{path.name} step {number}: no schema {name}")
                    failures += 1
                    continue
                errors = list(jsonschema.Draft202012Validator(schema).iter_errors(message))
                # Bad-input transcripts send invalid ops on purpose: they must NOT validate.
                is_bad_on_purpose = direction == "send" and "05-bad-input" in path.name and errors
                if errors and not is_bad_on_purpose:
                    failures += 1
                    print(f"{path.name} step {number} ({name}): {errors[0].message}")
    print("ok" if failures == 0 else f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
