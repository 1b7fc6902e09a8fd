// screens/endpoint_form.js: adding an endpoint and editing one: URL, description, the event
// types it takes (from the catalog), channels, a rate limit and custom headers. hookd checks
// the URL with its ownership challenge first; a failure is explained in plain words.

import { h, fill, announce } from "../dom.js";
import { seg } from "../api.js";
import { go, link } from "../router.js";
import { errorBox, field } from "../widgets.js";

/** Every event type of the catalog that is not archived (the API pages through them). */
export async function catalog(api) {
  const types = [];
  let iterator = null;
  do {
    const page = await api.get("/event-type", { limit: 250, iterator, with_content: true });
    types.push(...page.data);
    iterator = page.done ? null : page.iterator;
  } while (iterator);
  return types;
}

export async function endpointFormScreen(main, ctx, endpointId) {
  const editing = Boolean(endpointId);
  fill(main, h("h2", {}, editing ? "Edit endpoint" : "Add endpoint"), h("p", { class: "muted" }, "Loading…"));
  const base = `/app/${seg(ctx.appId)}/endpoint`;
  let endpoint = null;
  let headers = { headers: {}, sensitive: [] };
  let types = [];
  try {
    types = await catalog(ctx.api);
    if (editing) {
      endpoint = await ctx.api.get(`${base}/${seg(endpointId)}`);
      headers = await ctx.api.get(`${base}/${seg(endpointId)}/headers`);
    }
  } catch (error) {
    fill(main, h("h2", {}, "Endpoint"), errorBox(error));
    return;
  }
  const form = buildForm(endpoint, headers, types);
  const slot = h("div", { "aria-live": "polite" });
  form.el.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.submit.disabled = true;
    fill(slot, h("p", { class: "muted" }, editing ? "Saving…" : "Checking the URL with hookd's challenge…"));
    try {
      const saved = editing ? await update(ctx, base, endpoint, form, headers) : await create(ctx, base, form);
      announce(editing ? "Endpoint saved" : "Endpoint added");
      go(`${ctx.base}/endpoints/${saved.id}`);
    } catch (error) {
      fill(slot, explain(error, form.values().url));
      form.submit.disabled = false;
    }
  });
  const back = editing ? `${ctx.base}/endpoints/${endpointId}` : `${ctx.base}/endpoints`;
  fill(main, h("h2", {}, editing ? "Edit endpoint" : "Add endpoint"), h("div", { class: "panel" }, form.el, slot), h("a", { href: link(back) }, "Back"));
  form.url.focus();
}

function buildForm(endpoint, headers, types) {
  const url = h("input", { type: "url", required: true, placeholder: "https://example.com/webhooks", value: endpoint?.url ?? "" });
  const description = h("input", { type: "text", value: endpoint?.description ?? "" });
  const chosen = new Set(endpoint?.eventTypes ?? []);
  const boxes = types.map((t) => h("input", { type: "checkbox", value: t.name, checked: chosen.has(t.name) }));
  const channels = h("input", { type: "text", placeholder: "project-a, project-b", value: (endpoint?.channels ?? []).join(", ") });
  const rate = h("input", { type: "number", min: 1, max: 65535, inputmode: "numeric", value: endpoint?.throttleRate ?? "" });
  const rows = h("div");
  const addRow = (name = "", value = "", hidden = false) => {
    const nameInput = h("input", { type: "text", value: name, "aria-label": "Header name", placeholder: "X-Name" });
    const valueInput = h("input", {
      type: "text",
      value,
      "aria-label": `Value of header ${name || "new"}`,
      placeholder: hidden ? "(hidden; leave empty to keep)" : "value",
    });
    const remove = h("button", { type: "button", "aria-label": `Remove header ${name || "row"}` }, "Remove");
    const row = h("div", { class: "row header-row" }, nameInput, valueInput, remove);
    row.dataset.original = name;
    remove.addEventListener("click", () => row.remove());
    rows.append(row);
  };
  for (const [name, value] of Object.entries(headers.headers || {})) addRow(name, value);
  for (const name of headers.sensitive || []) addRow(name, "", true);
  const addHeader = h("button", { type: "button", onclick: () => addRow() }, "Add header");
  const submit = h("button", { type: "submit", class: "primary" }, endpoint ? "Save" : "Add endpoint");
  const typeList = types.length
    ? h("fieldset", {}, h("legend", {}, "Event types (none ticked: all of them)"), boxes.map((box, i) => h("label", { class: "inline" }, box, types[i].name)))
    : h("p", { class: "hint" }, "The catalog has no event types: the endpoint gets every message.");
  const el = h(
    "form",
    { novalidate: false },
    field("Endpoint URL", url, "hookd sends GET <url>?challenge=… first; the URL must answer with the token.")[0],
    field("Description", description)[0],
    typeList,
    field("Channels", channels, "Comma-separated; only messages on one of these channels are sent.")[0],
    field("Rate limit (deliveries per second)", rate, "Empty: no limit.")[0],
    h("fieldset", {}, h("legend", {}, "Custom headers"), rows, addHeader),
    h("div", { class: "row" }, submit),
  );
  const values = () => {
    const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
    const picked = boxes.filter((b) => b.checked).map((b) => b.value);
    const headerRows = [...rows.querySelectorAll(".header-row")].map((row) => {
      const [name, value] = row.querySelectorAll("input");
      return { original: row.dataset.original, name: name.value.trim(), value: value.value };
    });
    return {
      url: url.value.trim(),
      description: description.value.trim(),
      eventTypes: picked.length ? picked : null,
      channels: list(channels.value).length ? list(channels.value) : null,
      throttleRate: rate.value ? Number(rate.value) : null,
      headers: headerRows.filter((row) => row.name),
    };
  };
  return { el, url, submit, values };
}

async function create(ctx, base, form) {
  const v = form.values();
  const body = { url: v.url, description: v.description, eventTypes: v.eventTypes, channels: v.channels, throttleRate: v.throttleRate };
  const headers = Object.fromEntries(v.headers.filter((row) => row.value).map((row) => [row.name, row.value]));
  if (Object.keys(headers).length) body.headers = headers;
  return ctx.api.post(base, body);
}

/** The settings as a PATCH, then the headers that changed: new values set, removed ones null. */
async function update(ctx, base, endpoint, form, before) {
  const v = form.values();
  const path = `${base}/${seg(endpoint.id)}`;
  const saved = await ctx.api.patch(path, {
    url: v.url,
    description: v.description,
    eventTypes: v.eventTypes,
    channels: v.channels,
    throttleRate: v.throttleRate,
  });
  const changes = {};
  const kept = new Set(v.headers.map((row) => row.name.toLowerCase()));
  for (const name of [...Object.keys(before.headers || {}), ...(before.sensitive || [])]) {
    if (!kept.has(name.toLowerCase())) changes[name] = null;
  }
  for (const row of v.headers) {
    const unchanged = row.original === row.name && (before.headers || {})[row.name] === row.value;
    if (row.value && !unchanged) changes[row.name] = row.value;
  }
  if (Object.keys(changes).length) await ctx.api.patch(`${path}/headers`, { headers: changes });
  return saved;
}

/** A failed challenge in plain words: what the URL answered, and what it should do. */
function explain(error, url) {
  if (error.body && error.body.code === "endpoint_verification_failed") {
    const why = error.message.replace(/^endpoint verification failed: /, "");
    return h(
      "div",
      { class: "error", role: "alert" },
      h("p", {}, h("strong", {}, "hookd could not verify this URL, so nothing was saved.")),
      h("p", {}, `When hookd asked ${url}: ${why}.`),
      h(
        "p",
        {},
        "What the URL should do: answer hookd's GET request (it carries a ",
        h("code", {}, "challenge"),
        " query parameter) with status 200 and the value of that parameter as the body, either as plain text or as ",
        h("code", {}, '{"challenge": "<value>"}'),
        ". Webhook libraries that follow Standard Webhooks can do this for you.",
      ),
    );
  }
  return errorBox(error);
}
