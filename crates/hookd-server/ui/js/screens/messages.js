// screens/messages.js: the message log, newest first, a page at a time, filtered by event
// type, delivery status and time. The filters live in the URL, so back and forward keep them.

import { h, fill, when, cell } from "../dom.js";
import { seg } from "../api.js";
import { go, link } from "../router.js";
import { field, pager, errorBox } from "../widgets.js";
import { catalog } from "./endpoint_form.js";

const STATUSES = [
  ["", "Any status"],
  ["0", "Succeeded"],
  ["1", "Pending"],
  ["2", "Failed"],
  ["3", "Sending"],
];

export function messagesScreen(main, ctx, query) {
  const type = h("select", {}, h("option", { value: "" }, "All event types"));
  const status = h("select", {}, STATUSES.map(([value, text]) => h("option", { value, selected: query.get("status") === value && value !== "" }, text)));
  const after = h("input", { type: "datetime-local", value: query.get("after") || "" });
  const before = h("input", { type: "datetime-local", value: query.get("before") || "" });
  const filters = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter messages" },
    field("Event type", type)[0],
    field("Delivery status", status)[0],
    field("Sent after", after)[0],
    field("Sent before", before)[0],
    h("button", { type: "submit", class: "primary" }, "Filter"),
    h("a", { class: "button", href: link(`${ctx.base}/messages`) }, "Clear"),
  );
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [key, value] of [["event_type", type.value], ["status", status.value], ["after", after.value], ["before", before.value]]) {
      if (value) params.set(key, value);
    }
    const search = params.toString();
    go(`${ctx.base}/messages${search ? `?${search}` : ""}`);
  });
  const list = h("div");
  fill(main, h("h2", {}, "Messages"), h("div", { class: "panel" }, filters), h("div", { class: "panel" }, list));
  catalog(ctx.api)
    .then((types) => {
      for (const t of types) type.append(h("option", { value: t.name, selected: query.get("event_type") === t.name }, t.name));
    })
    .catch((error) => filters.after(errorBox(error)));
  const iso = (local) => (local ? new Date(local).toISOString() : undefined);
  pager(list, {
    label: "messages",
    load: (iterator) =>
      ctx.api.get(`/app/${seg(ctx.appId)}/msg`, {
        limit: 50,
        iterator,
        with_content: false,
        event_types: query.get("event_type"),
        status: query.get("status"),
        after: iso(query.get("after")),
        before: iso(query.get("before")),
      }),
    render: (messages) => table(messages, ctx),
  });
}

function table(messages, ctx) {
  if (!messages.length) return h("p", { class: "muted" }, "No messages match.");
  return h(
    "table",
    { class: "responsive" },
    h("thead", {}, h("tr", {}, ["Sent", "Event type", "Message", "Event id"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      messages.map((m) =>
        h(
          "tr",
          {},
          cell("Sent", when(m.timestamp)),
          cell("Event type", m.eventType),
          cell("Message", h("a", { class: "mono", href: link(`${ctx.base}/messages/${m.id}`) }, m.id)),
          cell("Event id", m.eventId || h("span", { class: "muted" }, "—")),
        ),
      ),
    ),
  );
}
