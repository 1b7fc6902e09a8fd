// screens/message.js: one message: its payload (shown as text, never as markup), how its
// delivery to each endpoint stands with a resend button, and every attempt per endpoint.

import { h, fill, when, cell, pretty } from "../dom.js";
import { seg } from "../api.js";
import { link } from "../router.js";
import { errorBox, run, statusBadge, attemptReason } from "../widgets.js";

export async function messageScreen(main, ctx, msgId) {
  const base = `/app/${seg(ctx.appId)}/msg/${seg(msgId)}`;
  let message;
  let destinations;
  let attempts;
  try {
    [message, destinations, attempts] = await Promise.all([
      ctx.api.get(base),
      ctx.api.get(`${base}/endpoint`, { limit: 250 }),
      ctx.api.get(`/app/${seg(ctx.appId)}/attempt/msg/${seg(msgId)}`, { limit: 250 }),
    ]);
  } catch (error) {
    fill(main, h("h2", {}, "Message"), errorBox(error), h("a", { href: link(`${ctx.base}/messages`) }, "All messages"));
    return;
  }
  const payload = message.payload && message.payload.expired ? "The payload was removed (past its retention, or expunged)." : pretty(JSON.stringify(message.payload));
  fill(
    main,
    h("p", {}, h("a", { href: link(`${ctx.base}/messages`) }, "← Messages")),
    h(
      "section",
      { class: "panel" },
      h("h2", { class: "mono" }, message.id),
      h("dl", {}, h("dt", {}, "Event type"), h("dd", {}, message.eventType), h("dt", {}, "Sent"), h("dd", {}, when(message.timestamp)), message.eventId ? [h("dt", {}, "Event id"), h("dd", {}, message.eventId)] : null),
      h("h3", {}, "Payload"),
      h("pre", { "aria-label": "Payload" }, payload),
    ),
    h("section", { class: "panel", "aria-labelledby": "dest-title" }, h("h3", { id: "dest-title" }, "Endpoints"), destinationTable(destinations.data, ctx, message)),
    h("section", { class: "panel", "aria-labelledby": "att-title" }, h("h3", { id: "att-title" }, "Attempts"), attemptsByEndpoint(attempts.data, destinations.data, ctx)),
  );
}

function destinationTable(rows, ctx, message) {
  if (!rows.length) return h("p", { class: "muted" }, "No endpoint was subscribed to this message.");
  return h(
    "table",
    { class: "responsive" },
    h("thead", {}, h("tr", {}, ["Endpoint", "Status", "Next attempt", ctx.readOnly ? null : "Resend"].filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      rows.map((d) => {
        const slot = h("div");
        const resend = ctx.readOnly
          ? null
          : cell(
              "Resend",
              h(
                "button",
                {
                  type: "button",
                  "aria-label": `Resend to ${d.url}`,
                  onclick: () => run(slot, () => ctx.api.post(`/app/${seg(ctx.appId)}/msg/${seg(message.id)}/endpoint/${seg(d.id)}/resend`, {}), `Resending to ${d.url}.`),
                },
                "Resend",
              ),
              slot,
            );
        return h(
          "tr",
          {},
          cell("Endpoint", h("a", { class: "mono", href: link(`${ctx.base}/endpoints/${d.id}`) }, d.url)),
          cell("Status", statusBadge(d.status)),
          cell("Next attempt", d.nextAttempt ? when(d.nextAttempt) : h("span", { class: "muted" }, "—")),
          resend,
        );
      }),
    ),
  );
}

function attemptsByEndpoint(attempts, destinations, ctx) {
  if (!attempts.length) return h("p", { class: "muted" }, "No attempts yet.");
  const urls = new Map(destinations.map((d) => [d.id, d.url]));
  const groups = new Map();
  for (const a of attempts) {
    if (!groups.has(a.endpointId)) groups.set(a.endpointId, []);
    groups.get(a.endpointId).push(a);
  }
  return [...groups].map(([endpointId, rows]) =>
    h(
      "div",
      {},
      h("h4", { class: "mono" }, urls.get(endpointId) || rows[0].url),
      h(
        "table",
        { class: "responsive" },
        h("thead", {}, h("tr", {}, ["Time", "Status", "Duration", "Reason", "Response"].map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          {},
          rows.map((a) =>
            h(
              "tr",
              {},
              cell("Time", when(a.timestamp)),
              cell("Status", statusBadge(a.status), a.triggerType === 1 ? h("span", { class: "muted" }, " manual") : null),
              cell("Duration", `${a.responseDurationMs} ms`),
              cell("Reason", attemptReason(a)),
              cell("Response", a.response ? h("pre", {}, a.response) : h("span", { class: "muted" }, "empty")),
            ),
          ),
        ),
      ),
    ),
  );
}
