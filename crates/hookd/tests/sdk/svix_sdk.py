"""Drives hookd through the official `svix` Python SDK and checks what comes back.

Usage: python svix_sdk.py <server-url> <admin-token>
Every operation of Svix's v1 spec is called through the SDK (only `GET /health/ping`, which the
SDK has no method for, goes over plain HTTP). Exits non-zero on the first failed check. A tiny
receiver on loopback answers hookd's ownership challenge and records deliveries, which are
verified with the `svix` and `standardwebhooks` libraries, before and after secret rotations.
"""

import sys
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.api import (
    ApplicationCreateOptions,
    ApplicationIn,
    EndpointIn,
    EventTypeDeleteOptions,
    EventTypeListOptions,
    MessageAttemptListByMsgOptions,
    MessageGetOptions,
    MessageIn,
    MessageListOptions,
    Svix,
    SvixOptions,
)
from svix.exceptions import HttpError, HTTPValidationError
from svix.models import (
    AppPortalAccessIn,
    ApplicationPatch,
    EndpointHeadersIn,
    EndpointHeadersPatchIn,
    EndpointPatch,
    EndpointSecretRotateIn,
    EndpointUpsertIn,
    EventExampleIn,
    EventTypeIn,
    EventTypePatch,
    EventTypeUpsertIn,
    MessageStatus,
    RecoverIn,
    StatusCodeClass,
)
from svix.webhooks import Webhook as SvixWebhook
from svix.webhooks import WebhookVerificationError

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


def delivery_of(msg_id, timeout=10):
    """The first delivery of the message, waiting for it."""
    def find():
        return next((d for d in deliveries if d[0].get("webhook-id") == msg_id), None)

    with delivered:
        if not delivered.wait_for(lambda: find() is not None, timeout):
            raise AssertionError(f"no delivery of {msg_id}")
        return find()


def eventually(fetch, holds, what, timeout=10):
    """Calls `fetch` until `holds(result)`: for what hookd records just after it delivers."""
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if holds(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {result!r}")
        time.sleep(0.05)


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok: {what}")


def refused(call, status, what):
    try:
        call()
    except (HttpError, HTTPValidationError) as e:
        check(e.status_code == status, f"{what} ({e.status_code})")
        return e
    raise AssertionError(f"{what}: expected {status}, the call succeeded")


def verifies(secret, delivery):
    headers, body = delivery
    try:
        SvixWebhook(secret).verify(body, headers)
        StandardWebhook(secret).verify(body, headers)
        return True
    except WebhookVerificationError:
        return False


def rotate(svix, app, ep, rotate_in):
    """Rotates and checks that the answer names the key that now signs."""
    rotated = svix.endpoint.rotate_secret(app.id, ep.id, rotate_in)
    check(rotated.key == svix.endpoint.get_secret(app.id, ep.id).key,
          "endpoint.rotate_secret answers with the new key")


def event_types(svix):
    paid = svix.event_type.create(EventTypeIn(
        name="invoice.paid", description="An invoice was paid",
        schemas={"1": {"type": "object", "examples": [{"invoice": "in_example", "amount": 1}]}}))
    check(paid.name == "invoice.paid" and not paid.archived, "event_type.create")
    refused(lambda: svix.event_type.create(EventTypeIn(name="invoice.paid", description="again")),
            409, "event_type.create of a taken name is 409")
    check(svix.event_type.get("invoice.paid").schemas["1"]["type"] == "object", "event_type.get")
    void = svix.event_type.upsert("invoice.void", EventTypeUpsertIn(description="Voided"))
    check(void.name == "invoice.void", "event_type.upsert creates")
    check(svix.event_type.upsert("invoice.void", EventTypeUpsertIn(description="Void")).description == "Void",
          "event_type.upsert replaces")
    check(svix.event_type.patch("invoice.void", EventTypePatch(deprecated=True)).deprecated,
          "event_type.patch")
    svix.event_type.create(EventTypeIn(name="invoice.old", description="Old"))
    svix.event_type.delete("invoice.old")
    listed = svix.event_type.list()
    check([t.name for t in listed.data] == ["invoice.paid", "invoice.void"] and listed.done,
          "event_type.list leaves archived types out, sorted by name")
    check(listed.data[0].schemas is None, "event_type.list leaves schemas out without with_content")
    full = svix.event_type.list(EventTypeListOptions(include_archived=True, with_content=True, limit=2))
    check([t.name for t in full.data] == ["invoice.old", "invoice.paid"] and not full.done,
          "event_type.list with include_archived, with_content and limit")
    check(full.data[1].schemas is not None, "event_type.list with_content carries schemas")
    svix.event_type.delete("invoice.old", EventTypeDeleteOptions(expunge=True))
    refused(lambda: svix.event_type.get("invoice.old"), 404, "event_type.delete with expunge")


def applications(svix):
    key = ApplicationCreateOptions(idempotency_key="create-acme")
    app = svix.application.create(ApplicationIn(name="Acme", uid="acme", metadata={"tier": "gold"}), key)
    check(app.id.startswith("app_") and app.uid == "acme", "application.create")
    again = svix.application.create(ApplicationIn(name="Acme", uid="acme", metadata={"tier": "gold"}), key)
    check(again.id == app.id, "application.create with the same idempotency key replays the first answer")
    refused(lambda: svix.application.create(ApplicationIn(name="Acme", uid="acme"), key), 422,
            "application.create with the same idempotency key and another body is refused")
    check(svix.application.get_or_create(ApplicationIn(name="Acme", uid="acme")).id == app.id,
          "application.get_or_create returns the existing application")
    check(svix.application.get("acme").id == app.id, "application.get by uid")
    check(svix.application.patch(app.id, ApplicationPatch(name="Acme Inc")).name == "Acme Inc",
          "application.patch")
    check(svix.application.upsert("other", ApplicationIn(name="Other")).uid == "other",
          "application.upsert creates")
    listed = svix.application.list()
    check(len(listed.data) == 2 and listed.done, "application.list")
    return app


def endpoints(svix, app, url):
    refused(lambda: svix.endpoint.create(app.id, EndpointIn(url=url, event_types=["invoice.nope"])),
            422, "endpoint.create with an undeclared event type is 422")
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
    refused(lambda: svix.endpoint.create(app.id, EndpointIn(url="http://127.0.0.1:9/nothing")),
            400, "an endpoint that fails the challenge is refused")

    svix.endpoint.set_headers(app.id, ep.id, EndpointHeadersIn(headers={"X-Team": "billing",
                                                                       "Authorization": "Bearer abc"}))
    svix.endpoint.patch_headers(app.id, ep.id, EndpointHeadersPatchIn(headers={"X-Extra": "1"}))
    headers = svix.endpoint.get_headers(app.id, ep.id)
    check(headers.headers.get("X-Team") == "billing" and headers.headers.get("X-Extra") == "1",
          "endpoint.set_headers, patch_headers, get_headers")
    check("Authorization" in headers.sensitive and headers.headers.get("Authorization") != "Bearer abc",
          "endpoint.get_headers redacts sensitive headers")
    return ep


def messages_and_signatures(svix, app, ep):
    secret = svix.endpoint.get_secret(app.id, ep.id).key
    check(secret.startswith("whsec_"), "endpoint.get_secret")
    msg = svix.message.create(app.id, MessageIn(event_type="invoice.paid", event_id="evt-1",
                                                payload={"invoice": "in_1", "amount": 4200},
                                                channels=["eu"]))
    check(msg.id.startswith("msg_"), "message.create")
    refused(lambda: svix.message.create(app.id, MessageIn(event_type="invoice.paid", event_id="evt-1", payload={})),
            409, "message.create with a repeated eventId is 409")
    first = delivery_of(msg.id)
    check(first[0].get("x-team") == "billing", "the endpoint's headers go with the delivery")
    check(verifies(secret, first), "a delivery verifies with svix.webhooks and standardwebhooks")
    check(StandardWebhook(secret).verify(first[1], first[0])["invoice"] == "in_1",
          "standardwebhooks reads the payload back")

    rotate(svix, app, ep, EndpointSecretRotateIn())
    rotated = svix.endpoint.get_secret(app.id, ep.id).key
    check(rotated != secret, "endpoint.rotate_secret makes a new secret")
    after = svix.message.create(app.id, MessageIn(event_type="invoice.paid", payload={"n": 2}, channels=["eu"]))
    during_grace = delivery_of(after.id)
    check(verifies(rotated, during_grace), "after a rotation, deliveries verify with the new secret")
    check(verifies(secret, during_grace), "... and with the old one during its grace period")

    new_key = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    rotate(svix, app, ep, EndpointSecretRotateIn(key=new_key, grace_period_seconds=0))
    check(svix.endpoint.get_secret(app.id, ep.id).key == new_key, "endpoint.rotate_secret with a given key")
    last = svix.message.create(app.id, MessageIn(event_type="invoice.paid", payload={"n": 3}, channels=["eu"]))
    without_grace = delivery_of(last.id)
    check(verifies(new_key, without_grace), "deliveries verify with a rotated-in key")
    check(not verifies(rotated, without_grace), "a secret rotated out without grace no longer verifies")
    return msg


def messages_and_attempts(svix, app, ep, msg):
    svix.message.create(app.id, MessageIn(event_type="invoice.void", payload={"skip": True}, channels=["eu"]))
    check(svix.message.get(app.id, "evt-1").id == msg.id, "message.get by eventId")
    listed = svix.message.list(app.id, MessageListOptions(event_types=["invoice.paid"], limit=2))
    check(len(listed.data) == 2 and not listed.done, "message.list with event_types and limit")
    rest = svix.message.list(app.id, MessageListOptions(event_types=["invoice.paid"], iterator=listed.iterator))
    check(len(rest.data) == 1 and rest.data[0].id == msg.id and rest.done, "message.list walks on with iterator")
    check(len(svix.message.list(app.id, MessageListOptions(channel="eu")).data) == 4, "message.list by channel")

    attempts = eventually(lambda: svix.message_attempt.list_by_msg(app.id, msg.id), lambda a: a.data,
                          "message_attempt.list_by_msg")
    check(len(attempts.data) == 1 and attempts.data[0].response_status_code == 200,
          "message_attempt.list_by_msg")
    ok = MessageAttemptListByMsgOptions(status=MessageStatus.SUCCESS, status_code_class=StatusCodeClass.CODE2XX,
                                        endpoint_id=ep.id)
    check(len(svix.message_attempt.list_by_msg(app.id, msg.id, ok).data) == 1,
          "message_attempt.list_by_msg with status, status_code_class and endpoint_id")
    failed = MessageAttemptListByMsgOptions(status=MessageStatus.FAIL)
    check(svix.message_attempt.list_by_msg(app.id, msg.id, failed).data == [], "... and none failed")
    by_endpoint = eventually(lambda: svix.message_attempt.list_by_endpoint(app.id, ep.id),
                             lambda a: len(a.data) == 3, "message_attempt.list_by_endpoint")
    check(attempts.data[0].id in [a.id for a in by_endpoint.data], "message_attempt.list_by_endpoint")
    attempt = svix.message_attempt.get(app.id, msg.id, attempts.data[0].id)
    check(attempt.msg_id == msg.id and attempt.endpoint_id == ep.id, "message_attempt.get")
    destinations = svix.message_attempt.list_attempted_destinations(app.id, msg.id)
    check([d.id for d in destinations.data] == [ep.id], "message_attempt.list_attempted_destinations")
    attempted = svix.message_attempt.list_attempted_messages(app.id, ep.id)
    check(msg.id in [m.id for m in attempted.data], "message_attempt.list_attempted_messages")
    check(svix.endpoint.get_stats(app.id, ep.id).success >= 3, "endpoint.get_stats")

    before = len(deliveries)
    svix.message_attempt.resend(app.id, msg.id, ep.id)
    eventually(lambda: len(deliveries), lambda n: n > before, "message_attempt.resend delivers again")
    check(True, "message_attempt.resend")
    recovered = svix.endpoint.recover(app.id, ep.id, RecoverIn(since=datetime.now(timezone.utc) - timedelta(days=1)))
    check(recovered.id and recovered.task, "endpoint.recover (nothing had failed)")

    example = svix.endpoint.send_example(app.id, ep.id, EventExampleIn(event_type="invoice.paid"))
    check(example.payload == {"invoice": "in_example", "amount": 1}, "endpoint.send_example")
    check(delivery_of(example.id) is not None, "the example reaches the endpoint")

    svix.message_attempt.expunge_content(app.id, msg.id, attempt.id)
    check(svix.message_attempt.get(app.id, msg.id, attempt.id).response == "",
          "message_attempt.expunge_content")
    content = MessageGetOptions(with_content=True)
    check(svix.message.get(app.id, msg.id, content).payload["invoice"] == "in_1", "message.get with content")
    svix.message.expunge_content(app.id, msg.id)
    check(svix.message.get(app.id, msg.id).payload == {}, "message.get leaves the payload out by default")
    expunged = svix.message.get(app.id, msg.id, content).payload
    check(expunged == {"expired": True}, f"message.expunge_content: {expunged}")
    refused(lambda: svix.message_attempt.resend(app.id, msg.id, ep.id), 400,
            "message_attempt.resend of an expunged message is 400")


def authentication(svix, server_url, app):
    access = svix.authentication.app_portal_access(app.id, AppPortalAccessIn())
    check(access.url.startswith(server_url) and access.token in access.url,
          "authentication.app_portal_access")
    portal = Svix(access.token, SvixOptions(server_url=server_url))
    check(portal.application.get(app.id).id == app.id, "the portal token reads its application")
    refused(lambda: portal.application.get("other"), 403, "the portal token cannot reach another application")
    refused(lambda: portal.application.list(), 403, "the portal token cannot list applications")
    portal.authentication.logout()
    refused(lambda: portal.application.get(app.id), 401, "authentication.logout ends the token")


def health(svix, server_url):
    svix.health.get()
    check(True, "health.get")
    with urllib.request.urlopen(f"{server_url}/api/v1/health/ping") as response:
        check(response.status == 204, "GET /health/ping (not in the SDK) answers 204")


def main(server_url, token):
    receiver = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    svix = Svix(token, SvixOptions(server_url=server_url))

    health(svix, server_url)
    event_types(svix)
    app = applications(svix)
    ep = endpoints(svix, app, url)
    msg = messages_and_signatures(svix, app, ep)
    messages_and_attempts(svix, app, ep, msg)
    authentication(svix, server_url, app)

    svix.endpoint.delete(app.id, ep.id)
    refused(lambda: svix.endpoint.get(app.id, ep.id), 404, "endpoint.delete")
    svix.application.delete(app.id)
    refused(lambda: svix.application.get(app.id), 404, "application.delete")
    svix.event_type.delete("invoice.void")
    check(svix.event_type.get("invoice.void").archived, "event_type.delete archives")
    print("all SDK checks passed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
