#!/usr/bin/python3
"""Checks JSON documents against pitool's schemas (docs/schema/) for the CLI tests.

Started once per test process by tests/support/json_schema.cpp and kept running:
starting Python and jsonschema costs about as much as a pitool run, and the
suites check hundreds of documents. Requests are one line each on stdin,
{"schema": "show.json", "document": ...}; each gets one line on stdout,
"ok" or "invalid: MESSAGE" (MESSAGE on one line). EOF on stdin ends it.

Usage: json_schema_validator.py SCHEMA_DIR
"""
import json
import pathlib
import sys

import jsonschema


def main():
    directory = pathlib.Path(sys.argv[1]).resolve()
    store = {}
    for path in sorted(directory.glob("*.json")):
        if path.name != "index.json":
            store[path.as_uri()] = json.loads(path.read_text())
    validators = {}
    for uri, schema in store.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        resolver = jsonschema.RefResolver(base_uri=uri, referrer=schema, store=store)
        validators[pathlib.PurePath(uri).name] = jsonschema.Draft202012Validator(schema, resolver=resolver)
    for line in sys.stdin:
        try:
            request = json.loads(line)
            validator = validators.get(request["schema"])
            if validator is None:
                answer = "invalid: no schema named " + json.dumps(request["schema"])
            else:
                error = jsonschema.exceptions.best_match(validator.iter_errors(request["document"]))
                if error is None:
                    answer = "ok"
                else:
                    where = "/".join(str(p) for p in error.absolute_path) or "(the document)"
                    answer = "invalid: at " + where + ": " + error.message
        except (ValueError, KeyError) as e:
            answer = "invalid: bad request: " + str(e)
        sys.stdout.write(answer.replace("\n", " ") + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
