"""Signs and verifies with the Python `standardwebhooks` and `svix` libraries, for hookd's
interop tests (lib/hookd-receiver/tests/it/interop.rs).

Reads {"verify": [{"secret", "body", "headers"}], "sign": [{"secret", "id", "timestamp",
"body"}]} on stdin; writes, per library, each verdict ({"ok": true} or {"ok": false, "error"})
and each signature.
"""

import json
import sys
from datetime import datetime, timezone

import standardwebhooks
import svix.webhooks


def as_svix_headers(headers):
    return {name.replace("webhook-", "svix-", 1): value for name, value in headers.items()}


def verify_standardwebhooks(secret, body, headers):
    standardwebhooks.Webhook(secret).verify(body, headers, json_parse=False)


def verify_svix(secret, body, headers):
    svix.webhooks.Webhook(secret).verify(body, headers)


def verdicts(verify, cases, rename=lambda headers: headers):
    out = []
    for case in cases:
        try:
            verify(case["secret"], case["body"].encode(), rename(case["headers"]))
            out.append({"ok": True})
        except Exception as e:  # any refusal counts; the name says which
            out.append({"ok": False, "error": f"{type(e).__name__}: {e}"})
    return out


def signatures(make, cases):
    return [
        make(case["secret"]).sign(
            case["id"], datetime.fromtimestamp(case["timestamp"], tz=timezone.utc), case["body"]
        )
        for case in cases
    ]


def main():
    request = json.load(sys.stdin)
    libraries = {
        "standardwebhooks": (standardwebhooks.Webhook, verify_standardwebhooks),
        "svix": (svix.webhooks.Webhook, verify_svix),
    }
    result = {}
    for name, (make, verify) in libraries.items():
        result[name] = {
            "verify": verdicts(verify, request["verify"]),
            "sign": signatures(make, request["sign"]),
        }
    # svix reads the svix-* names first: check that path as well.
    result["svix (svix-* headers)"] = {
        "verify": verdicts(verify_svix, request["verify"], as_svix_headers),
        "sign": signatures(svix.webhooks.Webhook, request["sign"]),
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
