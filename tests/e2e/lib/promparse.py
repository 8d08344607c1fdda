#!/usr/bin/python3
"""Parses Prometheus text format from stdin with prometheus_client's parser
(Debian's python3-prometheus-client) and writes one JSON object per sample:
{"name", "labels", "value", "type"}. Exits 1 with the parser's error when
the text is not valid exposition format, or when a metric family has no
HELP or TYPE, or a sample name repeats with the same labels."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

text = sys.stdin.read()
seen = set()
try:
    for fam in text_string_to_metric_families(text):
        if not fam.documentation or fam.type == "unknown":
            sys.exit(f"metric {fam.name}: no HELP or TYPE")
        for s in fam.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in seen:
                sys.exit(f"sample {s.name}{s.labels} appears twice")
            seen.add(key)
            print(json.dumps({"name": s.name, "labels": s.labels,
                              "value": s.value, "type": fam.type}))
except ValueError as e:
    sys.exit(f"not Prometheus text format: {e}")
