"""The classic webhook endpoint behind nginx and gunicorn, in two versions.

``classic`` is what most push-to-deploy tutorials write: parse the JSON,
compare ``ref`` and start the deploy command without waiting for it.
``hmac`` is the same with the check a careful user adds first: the
X-Hub-Signature-256 header must be HMAC-SHA256(secret, raw body).

Configured from the environment (bench/bench.py sets it):
HOOK_SECRET_FILE, HOOK_COMMAND (a JSON list: the argv to start) and
HOOK_REF (refs/heads/main).  Run as ``gunicorn hookapp:classic`` or
``gunicorn hookapp:hmac``.
"""

import hashlib
import hmac as hmac_mod
import json
import os
import subprocess

from flask import Flask, abort, request

with open(os.environ["HOOK_SECRET_FILE"], "rb") as f:
    SECRET = f.read().strip()
COMMAND = json.loads(os.environ["HOOK_COMMAND"])
REF = os.environ.get("HOOK_REF", "refs/heads/main")


def deploy_if_main():
    payload = request.get_json(force=True, silent=True)
    if not isinstance(payload, dict):
        abort(400)
    if payload.get("ref") != REF:
        return "ignored: not %s\n" % REF, 200
    subprocess.Popen(COMMAND, stdin=subprocess.DEVNULL)
    return "deploy started\n", 200


classic = Flask("classic")


@classic.post("/hook")
def classic_hook():
    return deploy_if_main()


hmac = Flask("hmac")


@hmac.post("/hook")
def hmac_hook():
    want = "sha256=" + hmac_mod.new(SECRET, request.get_data(), hashlib.sha256).hexdigest()
    got = request.headers.get("X-Hub-Signature-256", "")
    if not hmac_mod.compare_digest(got.encode(), want.encode()):
        abort(401)
    return deploy_if_main()
