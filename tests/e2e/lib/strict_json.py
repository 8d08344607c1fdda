#!/usr/bin/python3
"""strict_json.py FILE: every line of FILE is strict UTF-8 (RFC 3629) and
one JSON object (RFC 8259); prints each offending line number and why,
exits 1 if any."""
import json
import sys

bad = 0
with open(sys.argv[1], "rb") as f:
    for n, raw in enumerate(f, 1):
        try:
            obj = json.loads(raw.decode("utf-8", errors="strict"))
            if not isinstance(obj, dict):
                raise ValueError("not an object")
        except (UnicodeDecodeError, ValueError) as e:
            print(f"line {n}: {e}")
            bad += 1
sys.exit(1 if bad else 0)
