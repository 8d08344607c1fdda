#!/usr/bin/python3
"""validate.py SCHEMA FILE...: every line of each FILE (JSON lines) is
valid against the JSON Schema SCHEMA (draft 2020-12, Debian's
python3-jsonschema). Prints each failing line with the reason and exits
1 if any; prints the number of records checked."""
import json
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate.py: no python3-jsonschema (bash scripts/setup.sh test)")

schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft202012Validator(
    schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
bad = n = 0
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            n += 1
            try:
                rec = json.loads(line)
            except ValueError as e:
                print(f"{path}:{i}: not JSON: {e}: {line[:200]!r}")
                bad += 1
                continue
            for e in validator.iter_errors(rec):
                where = "/".join(str(p) for p in e.absolute_path) or "(record)"
                print(f"{path}:{i}: {where}: {e.message}"[:400])
                bad += 1
print(f"{n} records checked, {bad} errors", file=sys.stderr)
sys.exit(1 if bad else 0)
