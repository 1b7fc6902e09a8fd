// console/overview.js: how hookd is doing: deliveries per minute over the last hour, the
// queue's depth, the endpoints failing (retries waiting) and those held as unreachable.

import { h, fill, when, cell } from "../dom.js";
import { link } from "../router.js";
import { barChart } from "../chart.js";
import { errorBox } from "../widgets.js";

export async function overviewScreen(main, api) {
  const body = h("div");
  const refresh = h("button", { type: "button", onclick: () => load() }, "Refresh");
  fill(main, h("div", { class: "spread" }, h("h2", {}, "Overview"), refresh), body);
  async function load() {
    try {
      const o = await api.get("/stats/overview");
      const total = o.perMinute.reduce((sum, b) => sum + b.succeeded + b.failed, 0);
      const last = o.perMinute[o.perMinute.length - 1] || { succeeded: 0, failed: 0 };
      const label = (start) => new Date(start).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      fill(
        body,
        h(
          "div",
          { class: "cards" },
          figure("Deliveries this minute", last.succeeded + last.failed),
          figure("Deliveries, last hour", total),
          figure("Queued", o.queue.pending),
          figure("Due now", o.queue.due),
          figure("Sending", o.queue.sending),
        ),
        h("section", { class: "panel", "aria-labelledby": "rate-title" }, h("h3", { id: "rate-title" }, "Deliveries per minute"), barChart(o.perMinute, { title: "Attempts per minute in the last hour", label })),
        troubled("Failing endpoints", "Endpoints with deliveries waiting for a retry.", o.failing, true),
        troubled("Held endpoints", "Endpoints that stopped answering: their deliveries wait, and one probe goes at a time (this node's view).", o.held, false),
      );
    } catch (error) {
      fill(body, errorBox(error));
    }
  }
  await load();
}

function figure(label, value) {
  return h("div", { class: "card" }, h("div", { class: "muted" }, label), h("div", { class: "figure" }, String(value)));
}

function troubled(title, hint, rows, failing) {
  const id = `t-${failing ? "failing" : "held"}`;
  return h(
    "section",
    { class: "panel", "aria-labelledby": id },
    h("h3", { id }, title),
    h("p", { class: "hint" }, hint),
    rows.length
      ? h(
          "table",
          { class: "responsive" },
          h("thead", {}, h("tr", {}, ["Endpoint", "Application", failing ? "Retrying" : null, failing ? "Next retry" : "Next probe"].filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            rows.map((r) =>
              h(
                "tr",
                {},
                cell("Endpoint", h("a", { class: "mono", href: link(`/apps/${r.appId}/endpoints/${r.endpointId}`) }, r.url)),
                cell("Application", h("a", { class: "mono", href: link(`/apps/${r.appId}/endpoints`) }, r.appId)),
                failing ? cell("Retrying", String(r.retrying)) : null,
                cell(failing ? "Next retry" : "Next probe", r.nextAttempt ? when(r.nextAttempt) : "now"),
              ),
            ),
          ),
        )
      : h("p", {}, "None."),
  );
}
