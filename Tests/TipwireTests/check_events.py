"""Validates Kafka events tipwire produced against schemas/events with Python's jsonschema,
an independent implementation of JSON Schema 2020-12.

usage: check_events.py SCHEMA_DIR EVENTS_FILE

EVENTS_FILE holds one JSON object per line: {"topic", "key", "headers": {name: value}, "value"}
where value is the event's data as text. Checks the CloudEvents 1.0 binary-mode headers and the
data against the schema named by ce_type. Prints one line per problem; exits 1 if there were any.
"""
import json
import pathlib
import re
import sys

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

REQUIRED_HEADERS = ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "content-type"]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def main(schema_dir, events_file):
    schemas = {}
    resources = []
    for path in sorted(pathlib.Path(schema_dir).glob("*.json")):
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
        resources.append((schema["$id"], Resource.from_contents(schema)))
        resources.append((path.name, Resource.from_contents(schema)))
        schemas[path.stem] = schema
    registry = Registry().with_resources(resources)
    problems = []
    count = 0
    for number, line in enumerate(pathlib.Path(events_file).read_text().splitlines(), 1):
        if not line.strip():
            continue
        count += 1
        event = json.loads(line)
        headers = event["headers"]
        where = f"event {number} on {event['topic']}"
        missing = [name for name in REQUIRED_HEADERS if name not in headers]
        if missing:
            problems.append(f"{where}: missing headers {missing}")
            continue
        if headers["ce_specversion"] != "1.0" or headers["content-type"] != "application/json":
            problems.append(f"{where}: ce_specversion/content-type are {headers['ce_specversion']}/{headers['content-type']}")
        if not UUID.match(headers["ce_id"]):
            problems.append(f"{where}: ce_id {headers['ce_id']!r} is not a lower-case UUID")
        schema = schemas.get(headers["ce_type"])
        if schema is None:
            problems.append(f"{where}: no schema for ce_type {headers['ce_type']}")
            continue
        validator = Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())
        data = json.loads(event["value"])
        for error in validator.iter_errors(data):
            path = "/".join(str(part) for part in error.absolute_path)
            problems.append(f"{where} ({headers['ce_type']}): {path or '(root)'}: {error.message}")
    for problem in problems:
        print(problem)
    print(f"checked {count} events: {len(problems)} problems")
    return 1 if problems or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
