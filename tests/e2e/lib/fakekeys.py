#!/usr/bin/python3
"""fakekeys.py DIR: fake credentials of real shapes (random, none real)
for credentials.bats: DIR/env (shell assignments), DIR/home/.aws/
credentials, DIR/home/.claude/.credentials.json, DIR/work/.env."""
import json
import os
import secrets
import string
import sys

d = sys.argv[1]
ALNUM = string.ascii_letters + string.digits


def rnd(n, alphabet=ALNUM):
    return "".join(secrets.choice(alphabet) for _ in range(n))


keys = {
    "ANTHROPIC_KEY": "sk-ant-api03-" + rnd(93, ALNUM + "_-") + "AA",
    "ARG_KEY": "sk-ant-api03-" + rnd(93, ALNUM + "_-") + "AA",
    "DEEPSEEK_KEY": "sk-" + rnd(32, "0123456789abcdef"),
    "AWS_SECRET": rnd(40, ALNUM + "/+"),
    "AWS_KEY_ID": "AKIA" + rnd(16, string.ascii_uppercase + "234567"),
    "CLAUDE_OAUTH": "sk-ant-oat01-" + rnd(95, ALNUM + "_-"),
    "OPENAI_KEY": "sk-proj-" + rnd(74, ALNUM) + "T3BlbkFJ" + rnd(74, ALNUM),
}
for sub in ("home/.aws", "home/.claude", "work"):
    os.makedirs(os.path.join(d, sub), exist_ok=True)
with open(os.path.join(d, "env"), "w") as f:
    for k, v in keys.items():
        f.write(f"{k}='{v}'\n")
with open(os.path.join(d, "home/.aws/credentials"), "w") as f:
    f.write("[default]\naws_access_key_id = %s\n" % keys["AWS_KEY_ID"])
    f.write("region = us-east-1\n")
with open(os.path.join(d, "home/.claude/.credentials.json"), "w") as f:
    json.dump({"claudeAiOauth": {"accessToken": keys["CLAUDE_OAUTH"],
                                 "expiresAt": 1790000000000,
                                 "scopes": ["user:inference"]}}, f)
with open(os.path.join(d, "work/.env"), "w") as f:
    f.write("# the app's settings\nOPENAI_API_KEY=%s\nDEBUG=1\n"
            % keys["OPENAI_KEY"])
