"""Drives hookd through the official `svix` Python SDK and checks what comes back.

Usage: python svix_sdk.py <server-url> <admin-token>
Exits non-zero on the first failed check. A tiny receiver on loopback answers hookd's
ownership challenge and records deliveries, which are verified with the `svix` and
`standardwebhooks` libraries.
"""

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.api import ApplicationIn, EndpointIn, MessageIn, Svix, SvixOptions
from svix.exceptions import HttpError
from svix.models import ApplicationPatch, EndpointPatch, EndpointUpsertIn
from svix.webhooks import Webhook as SvixWebhook

deliveries = []
delivered = threading.Condition()


class Receiver(BaseHTTPRequestHandler):
    def do_GET(self):
        token = parse_qs(urlparse(self.path).query).get("challenge", [""])[0].encode()
        self.send_response(200)
        self.send_header("content-length", str(len(token)))
        self.end_headers()
        self.wfile.write(token)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with delivered:
            deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
            delivered.notify_all()
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def wait_for_deliveries(count, timeout=10):
    with delivered:
        if not delivered.wait_for(lambda: len(deliveries) >= count, timeout):
            raise AssertionError(f"expected {count} deliveries, got {len(deliveries)}")


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok: {what}")


def main(server_url, token):
    receiver = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    svix = Svix(token, SvixOptions(server_url=server_url))

    app = svix.application.create(ApplicationIn(name="Acme", uid="acme", metadata={"tier": "gold"}))
    check(app.id.startswith("app_") and app.uid == "acme", "application.create")
    check(svix.application.get_or_create(ApplicationIn(name="Acme", uid="acme")).id == app.id,
          "application.get_or_create returns the existing application")
    check(svix.application.get("acme").id == app.id, "application.get by uid")
    check(svix.application.patch(app.id, ApplicationPatch(name="Acme Inc")).name == "Acme Inc",
          "application.patch")
    check(svix.application.upsert("other", ApplicationIn(name="Other")).uid == "other",
          "application.upsert creates")
    listed = svix.application.list()
    check(len(listed.data) == 2 and listed.done, "application.list")

    ep = svix.endpoint.create(app.id, EndpointIn(url=url, uid="main", event_types=["invoice.paid"],
                                                 channels=["eu"], metadata={"k": "v"}))
    check(ep.id.startswith("ep_") and ep.event_types == ["invoice.paid"], "endpoint.create (challenge passed)")
    check(svix.endpoint.get(app.id, "main").id == ep.id, "endpoint.get by uid")
    check(svix.endpoint.patch(app.id, ep.id, EndpointPatch(description="main hook")).description == "main hook",
          "endpoint.patch")
    upserted = svix.endpoint.upsert(app.id, ep.id, EndpointUpsertIn(url=url, event_types=["invoice.paid"],
                                                                    channels=["eu"], description="d"))
    check(upserted.description == "d", "endpoint.upsert replaces")
    check(len(svix.endpoint.list(app.id).data) == 1, "endpoint.list")
    secret = svix.endpoint.get_secret(app.id, ep.id).key
    check(secret.startswith("whsec_"), "endpoint.get_secret")

    try:
        svix.endpoint.create(app.id, EndpointIn(url="http://127.0.0.1:9/nothing"))
        raise AssertionError("an endpoint that fails the challenge must be refused")
    except HttpError as e:
        check(e.status_code == 400 and e.code == "endpoint_verification_failed",
              "a failed challenge is refused with a clear error")

    msg = svix.message.create(app.id, MessageIn(event_type="invoice.paid", event_id="evt-1",
                                                payload={"invoice": "in_1", "amount": 4200},
                                                channels=["eu"]))
    check(msg.id.startswith("msg_"), "message.create")
    try:
        svix.message.create(app.id, MessageIn(event_type="invoice.paid", event_id="evt-1", payload={}))
        raise AssertionError("a repeated eventId must be refused")
    except HttpError as e:
        check(e.status_code == 409, "message.create with a repeated eventId is 409")
    svix.message.create(app.id, MessageIn(event_type="invoice.void", payload={"skip": True}, channels=["eu"]))

    wait_for_deliveries(1)
    headers, body = deliveries[0]
    check(headers["webhook-id"] == msg.id, "delivery carries the message id")
    SvixWebhook(secret).verify(body, headers)  # raises WebhookVerificationError if it does not verify
    check(True, "delivery verifies with svix.webhooks")
    check(StandardWebhook(secret).verify(body, headers)["invoice"] == "in_1",
          "delivery verifies with standardwebhooks")

    check(svix.message.get(app.id, "evt-1").id == msg.id, "message.get by eventId")
    check(len(svix.message.list(app.id).data) == 2, "message.list")
    for _ in range(100):
        attempts = svix.message_attempt.list_by_msg(app.id, msg.id)
        if attempts.data:
            break
        time.sleep(0.05)
    check(len(attempts.data) == 1 and attempts.data[0].response_status_code == 200,
          "message_attempt.list_by_msg")
    by_endpoint = svix.message_attempt.list_by_endpoint(app.id, ep.id)
    check([a.id for a in by_endpoint.data] == [attempts.data[0].id], "message_attempt.list_by_endpoint")
    check(svix.message_attempt.get(app.id, msg.id, attempts.data[0].id).msg_id == msg.id,
          "message_attempt.get")
    check(len(deliveries) == 1, "the filtered-out event type was not delivered")

    svix.endpoint.delete(app.id, ep.id)
    svix.application.delete(app.id)
    try:
        svix.application.get(app.id)
        raise AssertionError("a deleted application must be gone")
    except HttpError as e:
        check(e.status_code == 404, "application.delete")
    print("all SDK checks passed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
