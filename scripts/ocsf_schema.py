#!/usr/bin/env python3
"""Compiles the OCSF schema sources (https://github.com/ocsf/ocsf-schema)
into a JSON Schema (draft 2020-12) for the event classes relaywatch
writes, so tests can validate its --output ocsf records with a stock
validator. Stdlib only.

    scripts/ocsf_schema.py OCSF_REPO REF CLASS... > docs/schema/ocsf-1.2.0-network_activity.schema.json

OCSF_REPO is a git checkout (or bare repository) of ocsf-schema, REF a
tag (v1.2.0). What it compiles, as the OCSF server does:
- a class: its "extends" chain (base_event <- network <- network_activity),
  attributes merged, later ones overriding fields of earlier ones;
- "$include" entries (profiles, includes/): their attributes merged in
  (a profile's as optional: they are required only where it applies);
- each attribute's type from dictionary.json: scalar types to JSON types
  (with their enums for *_id attributes), object types to $defs built the
  same way from objects/ (with their own extends and includes);
- "requirement": "required" to JSON Schema's required; every object is
  closed (additionalProperties false) so a misspelt attribute fails, but
  `unmapped` (OCSF's place for the rest) is open.
"""
import json
import subprocess
import sys

REPO, REF, CLASSES = sys.argv[1], sys.argv[2], sys.argv[3:]


def show(path):
    out = subprocess.run(["git", "-C", REPO, "show", f"refs/tags/{REF}:{path}"],
                         capture_output=True, check=True)
    return json.loads(out.stdout)


def ls(path):
    out = subprocess.run(["git", "-C", REPO, "ls-tree", "-r", "--name-only",
                          f"refs/tags/{REF}", path],
                         capture_output=True, check=True, text=True)
    return out.stdout.split()


DICT = show("dictionary.json")
TYPES = DICT["types"]["attributes"]
DICT_ATTRS = DICT["attributes"]
OBJECT_FILES = {}
for p in ls("objects"):
    if p.endswith(".json"):
        o = show(p)
        OBJECT_FILES[o["name"]] = o
EVENT_FILES = {}
for p in ls("events"):
    if p.endswith(".json"):
        e = show(p)
        EVENT_FILES[e["name"]] = e


def merged_attrs(spec, kind):
    """attributes of a class or object with its extends chain and includes"""
    chain = []
    while spec:
        chain.append(spec)
        parent = spec.get("extends")
        spec = (EVENT_FILES if kind == "event" else OBJECT_FILES).get(parent) \
            if parent else None
    attrs = {}
    for s in reversed(chain):
        for k, v in s.get("attributes", {}).items():
            if k == "$include":
                for inc in v:
                    for ik, iv in show(inc).get("attributes", {}).items():
                        if ik == "$include":
                            continue
                        # a profile's attributes are required only where
                        # the profile is applied: optional here
                        if inc.startswith("profiles/"):
                            iv = {**iv, "requirement": "optional"}
                        attrs[ik] = {**attrs.get(ik, {}), **iv}
                continue
            attrs[k] = {**attrs.get(k, {}), **v}
    return attrs


DEFS = {}


def scalar(tname):
    """JSON type of an OCSF scalar type (through its base type)"""
    seen = set()
    while tname in TYPES and tname not in seen:
        seen.add(tname)
        base = TYPES[tname].get("type")
        if not base:
            break
        tname = base
    return {"string_t": "string", "integer_t": "integer", "long_t": "integer",
            "float_t": "number", "boolean_t": "boolean",
            "json_t": None, "timestamp_t": "integer"}.get(tname, "string")


def attr_schema(name, a):
    base = DICT_ATTRS.get(name, {})
    d = {**base, **a}
    # a class's enum adds to the dictionary's (0 Unknown, 99 Other)
    if "enum" in base and "enum" in a:
        d["enum"] = {**base["enum"], **a["enum"]}
    t = d.get("type", "string_t")
    if t in TYPES or t.endswith("_t"):
        jt = scalar(t)
        s = {"type": jt} if jt else {}
        enum = d.get("enum")
        if enum and name.endswith("_id") and jt == "integer":
            s["enum"] = sorted(int(k) for k in enum)
    else:
        build_object(t)
        s = {"$ref": f"#/$defs/{t}"}
    if d.get("is_array"):
        s = {"type": "array", "items": s}
    return s


def close(attrs, open_names=("unmapped",)):
    props, req = {}, []
    for k, v in sorted(attrs.items()):
        props[k] = {} if k in open_names else attr_schema(k, v)
        if k in open_names:
            props[k] = {"type": "object"}
        if v.get("requirement") == "required":
            req.append(k)
    out = {"type": "object", "properties": props,
           "additionalProperties": False}
    if req:
        out["required"] = req
    return out


def build_object(name):
    if name in DEFS:
        return
    DEFS[name] = {}  # a placeholder: objects refer to each other
    spec = OBJECT_FILES.get(name)
    if not spec:
        DEFS[name] = {"type": "object"}
        return
    DEFS[name] = close(merged_attrs(spec, "object"))


def main():
    ver = show("version.json")["version"]
    one_of = []
    for c in CLASSES:
        spec = EVENT_FILES[c]
        s = close(merged_attrs(spec, "event"))
        uid = spec["uid"] + 1000 * {"network": 4, "system": 1}.get(
            spec.get("category", "network"), 4)
        s["properties"]["class_uid"] = {"const": uid}
        s["title"] = f"OCSF {ver} {spec['caption']} ({uid})"
        one_of.append(s)
    out = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://schema.ocsf.io/{ver}/classes/{'+'.join(CLASSES)}",
        "description": (f"Compiled by scripts/ocsf_schema.py from "
                        f"https://github.com/ocsf/ocsf-schema at {REF} "
                        f"(Apache-2.0): classes {', '.join(CLASSES)}"),
        "ocsf_version": ver,
        **(one_of[0] if len(one_of) == 1 else {"oneOf": one_of}),
        "$defs": DEFS,
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


main()
