// screens/endpoints.js: an application's endpoints: URL, description, whether they are
// enabled, disabled or held (no answer lately, so deliveries wait), the event types they
// take, and the last day's success rate.

import { h, fill, cell } from "../dom.js";
import { seg } from "../api.js";
import { link } from "../router.js";
import { pager, badge, errorBox } from "../widgets.js";

export async function endpointsScreen(main, ctx) {
  const list = h("div");
  fill(
    main,
    h(
      "div",
      { class: "spread" },
      h("h2", {}, "Endpoints"),
      ctx.readOnly ? null : h("a", { class: "button primary", href: link(`${ctx.base}/endpoints/new`) }, "Add endpoint"),
    ),
    h("p", { class: "muted" }, "Where this application's webhooks are sent."),
    h("div", { class: "panel" }, list),
  );
  let health = new Map();
  try {
    const answer = await ctx.api.get(`/app/${seg(ctx.appId)}/stats/endpoints`);
    health = new Map(answer.data.map((row) => [row.endpointId, row]));
  } catch (error) {
    list.before(errorBox(error));
  }
  pager(list, {
    label: "endpoints",
    load: (iterator) => ctx.api.get(`/app/${seg(ctx.appId)}/endpoint`, { limit: 50, iterator }),
    render: (endpoints) => table(endpoints, health, ctx),
  });
}

function table(endpoints, health, ctx) {
  if (!endpoints.length) {
    return h("p", {}, ctx.readOnly ? "No endpoints yet." : "No endpoints yet. Add one to start receiving webhooks.");
  }
  return h(
    "table",
    { class: "responsive" },
    h("thead", {}, h("tr", {}, ["URL", "Description", "Status", "Event types", "Success (24 h)"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      endpoints.map((ep) =>
        h(
          "tr",
          {},
          cell("URL", h("a", { href: link(`${ctx.base}/endpoints/${ep.id}`), class: "mono" }, ep.url)),
          cell("Description", ep.description || h("span", { class: "muted" }, "—")),
          cell("Status", endpointStatus(ep, health.get(ep.id))),
          cell("Event types", ep.eventTypes && ep.eventTypes.length ? ep.eventTypes.join(", ") : h("span", { class: "muted" }, "all")),
          cell("Success (24 h)", successRate(health.get(ep.id))),
        ),
      ),
    ),
  );
}

/** Enabled, disabled, or held because it stopped answering. */
export function endpointStatus(endpoint, health) {
  if (endpoint.disabled) return badge("Disabled", "off");
  if (health && health.held) return badge("Held: unreachable", "bad");
  return badge("Enabled", "ok");
}

export function successRate(health) {
  if (!health) return h("span", { class: "muted" }, "—");
  const total = health.succeeded + health.failed;
  if (!total) return h("span", { class: "muted" }, "no attempts");
  const rate = Math.round((health.succeeded / total) * 1000) / 10;
  return h("span", {}, `${rate}% `, h("span", { class: "muted" }, `of ${total}`));
}
