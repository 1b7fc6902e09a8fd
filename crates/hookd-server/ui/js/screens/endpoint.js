// screens/endpoint.js: one endpoint: its settings and status, the signing secret (hidden
// until revealed; copy, rotate), the last day's or week's attempts as a chart, recent attempts
// with what the receiver answered, recovering failed messages, and sending an example event.

import { h, fill, when, cell, announce } from "../dom.js";
import { seg } from "../api.js";
import { go, link } from "../router.js";
import { barChart } from "../chart.js";
import { confirmAction, copyButton, errorBox, field, pager, run, statusBadge, attemptReason } from "../widgets.js";
import { endpointStatus, successRate } from "./endpoints.js";
import { catalog } from "./endpoint_form.js";

export async function endpointScreen(main, ctx, endpointId) {
  const path = `/app/${seg(ctx.appId)}/endpoint/${seg(endpointId)}`;
  let endpoint;
  let health;
  try {
    endpoint = await ctx.api.get(path);
    const all = await ctx.api.get(`/app/${seg(ctx.appId)}/stats/endpoints`);
    health = all.data.find((row) => row.endpointId === endpoint.id);
  } catch (error) {
    fill(main, h("h2", {}, "Endpoint"), errorBox(error), h("a", { href: link(`${ctx.base}/endpoints`) }, "All endpoints"));
    return;
  }
  const attempts = h("div");
  fill(
    main,
    h("p", {}, h("a", { href: link(`${ctx.base}/endpoints`) }, "← Endpoints")),
    header(ctx, path, endpoint, health),
    secretPanel(ctx, path),
    statsPanel(ctx, path),
    ctx.readOnly ? null : toolsPanel(ctx, path, endpoint),
    h("section", { class: "panel", "aria-labelledby": "attempts-title" }, h("h3", { id: "attempts-title" }, "Recent attempts"), attempts),
  );
  pager(attempts, {
    label: "attempts",
    load: (iterator) => ctx.api.get(`/app/${seg(ctx.appId)}/attempt/endpoint/${seg(endpoint.id)}`, { limit: 20, iterator }),
    render: (rows) => attemptTable(rows, ctx),
  });
}

function header(ctx, path, endpoint, health) {
  const slot = h("div");
  const actions = ctx.readOnly
    ? null
    : h(
        "div",
        { class: "row" },
        h("a", { class: "button", href: link(`${ctx.base}/endpoints/${endpoint.id}/edit`) }, "Edit"),
        h(
          "button",
          {
            type: "button",
            onclick: () =>
              run(slot, async () => {
                await ctx.api.patch(path, { disabled: !endpoint.disabled });
                announce(endpoint.disabled ? "Endpoint enabled" : "Endpoint disabled");
                endpointScreen(document.getElementById("main"), ctx, endpoint.id);
              }),
          },
          endpoint.disabled ? "Enable" : "Disable",
        ),
        h(
          "button",
          {
            type: "button",
            class: "danger",
            onclick: async () => {
              const sure = await confirmAction({
                title: "Delete this endpoint?",
                body: `${endpoint.url} stops receiving webhooks at once. Its attempts stay in the log.`,
                confirm: "Delete endpoint",
              });
              if (sure && (await run(slot, () => ctx.api.del(path).then(() => true)))) {
                announce("Endpoint deleted");
                go(`${ctx.base}/endpoints`);
              }
            },
          },
          "Delete",
        ),
      );
  const facts = h(
    "dl",
    {},
    h("dt", {}, "Status"),
    h("dd", {}, endpointStatus(endpoint, health), health?.held && health.nextProbe ? ` next probe ${when(health.nextProbe)}` : ""),
    h("dt", {}, "Event types"),
    h("dd", {}, endpoint.eventTypes?.length ? endpoint.eventTypes.join(", ") : "all"),
    endpoint.channels?.length ? [h("dt", {}, "Channels"), h("dd", {}, endpoint.channels.join(", "))] : null,
    endpoint.throttleRate ? [h("dt", {}, "Rate limit"), h("dd", {}, `${endpoint.throttleRate} per second`)] : null,
    h("dt", {}, "Success (24 h)"),
    h("dd", {}, successRate(health)),
  );
  return h(
    "section",
    { class: "panel" },
    h("div", { class: "spread" }, h("h2", { class: "mono" }, endpoint.url), actions),
    endpoint.description ? h("p", {}, endpoint.description) : null,
    facts,
    slot,
  );
}

function secretPanel(ctx, path) {
  let secret = null;
  const value = h("span", { class: "secret", id: "secret-value" }, "••••••••••••••••••••••••");
  const slot = h("div");
  const reveal = h("button", { type: "button", "aria-controls": "secret-value", "aria-expanded": "false" }, "Reveal secret");
  const copy = copyButton("Copy signing secret", () => secret || "");
  copy.hidden = true;
  const show = (key) => {
    secret = key;
    value.textContent = key;
    reveal.textContent = "Hide secret";
    reveal.setAttribute("aria-expanded", "true");
    copy.hidden = false;
  };
  reveal.addEventListener("click", async () => {
    if (secret) {
      secret = null;
      value.textContent = "••••••••••••••••••••••••";
      reveal.textContent = "Reveal secret";
      reveal.setAttribute("aria-expanded", "false");
      copy.hidden = true;
      return;
    }
    const answer = await run(slot, () => ctx.api.get(`${path}/secret`));
    if (answer) show(answer.key);
  });
  const rotate = ctx.readOnly
    ? null
    : h(
        "button",
        {
          type: "button",
          onclick: async () => {
            const sure = await confirmAction({
              title: "Rotate the signing secret?",
              body: "A new secret signs from now on. The current one keeps signing beside it for 24 hours, so the receiver can switch.",
              confirm: "Rotate secret",
            });
            if (!sure) return;
            const answer = await run(slot, () => ctx.api.post(`${path}/secret/rotate`, {}), "Secret rotated: the previous one signs for 24 more hours.");
            if (answer) show(answer.key);
          },
        },
        "Rotate secret",
      );
  return h(
    "section",
    { class: "panel", "aria-labelledby": "secret-title" },
    h("h3", { id: "secret-title" }, "Signing secret"),
    h("p", { class: "hint" }, "Verify each webhook's signature with this secret (Standard Webhooks)."),
    h("div", { class: "row" }, value, reveal, copy, rotate),
    slot,
  );
}

function statsPanel(ctx, path) {
  const chart = h("div");
  const day = h("button", { type: "button", "aria-pressed": "true" }, "Last day");
  const week = h("button", { type: "button", "aria-pressed": "false" }, "Last week");
  const show = async (period) => {
    day.setAttribute("aria-pressed", String(period === "day"));
    week.setAttribute("aria-pressed", String(period === "week"));
    try {
      const series = await ctx.api.get(`${path}/stats/attempts`, { period });
      const label = (start) => {
        const d = new Date(start);
        return period === "day" ? `${String(d.getHours()).padStart(2, "0")}:00` : d.toLocaleDateString();
      };
      fill(chart, barChart(series.data, { title: period === "day" ? "Attempts in the last day" : "Attempts in the last week", label }));
    } catch (error) {
      fill(chart, errorBox(error));
    }
  };
  day.addEventListener("click", () => show("day"));
  week.addEventListener("click", () => show("week"));
  show("day");
  return h("section", { class: "panel", "aria-labelledby": "stats-title" }, h("div", { class: "spread" }, h("h3", { id: "stats-title" }, "Delivery stats"), h("div", { class: "row", role: "group", "aria-label": "Period" }, day, week)), chart);
}

function toolsPanel(ctx, path, endpoint) {
  const since = h("input", { type: "datetime-local", required: true, value: localInput(Date.now() - 24 * 3600 * 1000) });
  const recoverSlot = h("div");
  const recover = h("form", {}, field("Recover failed messages since", since, "Every message since then whose delivery failed for good is sent again.")[0], h("button", { type: "submit" }, "Recover failed messages"), recoverSlot);
  recover.addEventListener("submit", (event) => {
    event.preventDefault();
    const at = new Date(since.value);
    run(recoverSlot, () => ctx.api.post(`${path}/recover`, { since: at.toISOString() }), `Recovering failed messages since ${at.toLocaleString()}.`);
  });
  const type = h("select", {});
  const exampleSlot = h("div");
  catalog(ctx.api)
    .then((types) => {
      const allowed = endpoint.eventTypes?.length ? types.filter((t) => endpoint.eventTypes.includes(t.name)) : types;
      fill(type, allowed.map((t) => h("option", { value: t.name }, t.name)));
    })
    .catch((error) => fill(exampleSlot, errorBox(error)));
  const example = h("form", {}, field("Event type", type)[0], h("button", { type: "submit" }, "Send example"), exampleSlot);
  example.addEventListener("submit", (event) => {
    event.preventDefault();
    run(exampleSlot, () => ctx.api.post(`${path}/send-example`, { eventType: type.value }), (msg) => `Example ${type.value} sent as ${msg.id}.`);
  });
  return h(
    "section",
    { class: "panel", "aria-labelledby": "tools-title" },
    h("h3", { id: "tools-title" }, "Recover and test"),
    h("div", { class: "cards" }, h("div", {}, recover), h("div", {}, h("h4", {}, "Send an example event"), example)),
  );
}

/** A time as a datetime-local input wants it, in local time. */
function localInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

export function attemptTable(rows, ctx) {
  if (!rows.length) return h("p", { class: "muted" }, "No attempts yet.");
  return h(
    "table",
    { class: "responsive" },
    h("thead", {}, h("tr", {}, ["Time", "Status", "Message", "Duration", "Reason", "Response"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      rows.map((a) =>
        h(
          "tr",
          {},
          cell("Time", when(a.timestamp)),
          cell("Status", statusBadge(a.status), a.triggerType === 1 ? h("span", { class: "muted" }, " manual") : null),
          cell("Message", h("a", { class: "mono", href: link(`${ctx.base}/messages/${a.msgId}`) }, a.msgId)),
          cell("Duration", `${a.responseDurationMs} ms`),
          cell("Reason", attemptReason(a)),
          cell("Response", a.response ? h("details", {}, h("summary", {}, "Response body"), h("pre", {}, a.response)) : h("span", { class: "muted" }, "empty")),
        ),
      ),
    ),
  );
}
