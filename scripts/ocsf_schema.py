#!/usr/bin/env python3
"""Compiles the OCSF schema sources (https://github.com/ocsf/ocsf-schema)
into a JSON Schema (draft 2020-12) for the event classes relaywatch
writes, so tests can validate its --output ocsf records with a stock
validator. Stdlib only.

    scripts/ocsf_schema.py OCSF_REPO REF CLASS... > docs/schema/ocsf-1.8.0-network_activity.schema.json

OCSF_REPO is a git checkout (or bare repository) of ocsf-schema, REF a
tag (1.8.0). What it compiles, as the OCSF server does:
- a class: its "extends" chain (base_event <- network <- network_activity),
  attributes merged, later ones overriding fields of earlier ones;
- "$include" entries (profiles, includes/): their attributes merged in
  (a profile's as optional: they are required only where it applies);
- each attribute's type from dictionary.json: scalar types to JSON types
  (with their enums for *_id attributes), object types to $defs built the
  same way from objects/ (with their own extends and includes);
- "requirement": "required" to JSON Schema's required; every object is
  closed (additionalProperties false) so a misspelt attribute fails, but
  `unmapped` (OCSF's place for the rest) is open;
- "constraints": at_least_one to anyOf, just_one to oneOf (of required);
- class_uid, category_uid (categories.json) and type_uid (class_uid * 100
  + each activity_id) as the values they must have.
"""
import json
import subprocess
import sys

REPO, REF, CLASSES = sys.argv[1], sys.argv[2], sys.argv[3:]


def show(path):
    out = subprocess.run(["git", "-C", REPO, "show", f"refs/tags/{REF}:{path}"],
                         capture_output=True, check=True)
    return json.loads(out.stdout)


def commit():
    out = subprocess.run(["git", "-C", REPO, "rev-parse",
                          f"refs/tags/{REF}^{{commit}}"],
                         capture_output=True, check=True, text=True)
    return out.stdout.strip()


def ls(path):
    out = subprocess.run(["git", "-C", REPO, "ls-tree", "-r", "--name-only",
                          f"refs/tags/{REF}", path],
                         capture_output=True, check=True, text=True)
    return out.stdout.split()


DICT = show("dictionary.json")
CATEGORIES = {k: v["uid"] for k, v in
              show("categories.json")["attributes"].items()}
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


def chain_of(spec, kind):
    """spec and what it extends, the most specific first"""
    chain = []
    while spec:
        chain.append(spec)
        parent = spec.get("extends")
        spec = (EVENT_FILES if kind == "event" else OBJECT_FILES).get(parent) \
            if parent else None
    return chain


def inherited(spec, kind, key):
    """a key of spec or, when it has none, of the nearest it extends"""
    for s in chain_of(spec, kind):
        if key in s:
            return s[key]
    return None


def merged_attrs(spec, kind):
    """attributes of a class or object with its extends chain and includes"""
    chain = chain_of(spec, kind)
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


def attr_enum(name, attrs):
    """an *_id attribute's enum: the dictionary's with the class's added"""
    return {**DICT_ATTRS.get(name, {}).get("enum", {}),
            **attrs.get(name, {}).get("enum", {})}


def close(attrs, constraints=None, open_names=("unmapped",)):
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
    for kind, key in (("at_least_one", "anyOf"), ("just_one", "oneOf")):
        names = (constraints or {}).get(kind)
        if names:
            out[key] = [{"required": [n]} for n in names]
    return out


def build_object(name):
    if name in DEFS:
        return
    DEFS[name] = {}  # a placeholder: objects refer to each other
    spec = OBJECT_FILES.get(name)
    if not spec:
        DEFS[name] = {"type": "object"}
        return
    DEFS[name] = close(merged_attrs(spec, "object"),
                       inherited(spec, "object", "constraints"))


def main():
    ver = show("version.json")["version"]
    one_of = []
    for c in CLASSES:
        spec = EVENT_FILES[c]
        attrs = merged_attrs(spec, "event")
        s = close(attrs, inherited(spec, "event", "constraints"))
        cat = CATEGORIES[inherited(spec, "event", "category")]
        uid = spec["uid"] + 1000 * cat
        acts = sorted(int(k) for k in attr_enum("activity_id", attrs))
        s["properties"]["class_uid"] = {"const": uid}
        s["properties"]["category_uid"] = {"const": cat}
        s["properties"]["type_uid"] = {"enum": [uid * 100 + a for a in acts]}
        s["title"] = f"OCSF {ver} {spec['caption']} ({uid})"
        one_of.append(s)
    out = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://schema.ocsf.io/{ver}/classes/{'+'.join(CLASSES)}",
        "description": (f"Compiled by scripts/ocsf_schema.py from "
                        f"https://github.com/ocsf/ocsf-schema at {REF} "
                        f"(Apache-2.0): classes {', '.join(CLASSES)}"),
        "ocsf_version": ver,
        "ocsf_source": {"url": "https://github.com/ocsf/ocsf-schema",
                        "tag": REF, "commit": commit()},
        **(one_of[0] if len(one_of) == 1 else {"oneOf": one_of}),
        "$defs": DEFS,
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


main()
