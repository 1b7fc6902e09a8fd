// console/event_types.js: the event catalog as the operator keeps it: every event type
// (archived ones too), creating one, editing its description, schema and example, and
// archiving or restoring it.

import { h, fill, cell, announce } from "../dom.js";
import { seg } from "../api.js";
import { go, link } from "../router.js";
import { confirmAction, errorBox, field, pager, run, badge } from "../widgets.js";
import { latestSchema } from "../screens/catalog.js";

export function eventTypesScreen(main, api) {
  const list = h("div");
  fill(main, h("div", { class: "spread" }, h("h2", {}, "Event types"), h("a", { class: "button primary", href: link("/event-types/new") }, "New event type")), h("div", { class: "panel" }, list));
  pager(list, {
    label: "event types",
    load: (iterator) => api.get("/event-type", { limit: 50, iterator, include_archived: true }),
    render: (types) =>
      types.length
        ? h(
            "table",
            { class: "responsive" },
            h("thead", {}, h("tr", {}, ["Name", "Description", "State"].map((t) => h("th", { scope: "col" }, t)))),
            h(
              "tbody",
              {},
              types.map((t) =>
                h(
                  "tr",
                  {},
                  cell("Name", h("a", { class: "mono", href: link(`/event-types/${encodeURIComponent(t.name)}`) }, t.name)),
                  cell("Description", t.description),
                  cell("State", t.archived ? badge("Archived", "off") : t.deprecated ? badge("Deprecated", "warn") : badge("Active", "ok")),
                ),
              ),
            ),
          )
        : h("p", {}, "No event types yet."),
  });
}

export async function eventTypeScreen(main, api, name) {
  let current = null;
  if (name) {
    try {
      current = await api.get(`/event-type/${seg(name)}`);
    } catch (error) {
      fill(main, h("h2", {}, "Event type"), errorBox(error));
      return;
    }
  }
  const { schema, example } = current ? latestSchema(current) : { schema: null, example: null };
  const nameInput = h("input", { type: "text", required: true, pattern: "[a-zA-Z0-9\\-_.]+", value: current?.name ?? "", disabled: Boolean(current) });
  const description = h("input", { type: "text", value: current?.description ?? "" });
  const schemaText = h("textarea", { spellcheck: "false" }, schema ? JSON.stringify(schema, null, 2) : "");
  const exampleText = h("textarea", { spellcheck: "false" }, example !== null ? JSON.stringify(example, null, 2) : "");
  const slot = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    {},
    field("Name", nameInput, "Letters, digits, -, _ and . (e.g. invoice.paid). It cannot change later.")[0],
    field("Description", description)[0],
    field("Schema (JSON Schema)", schemaText, "Empty: no schema.")[0],
    field("Example payload (JSON)", exampleText, "Shown in the catalog, and sent by 'Send example'.")[0],
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, current ? "Save" : "Create event type")),
    slot,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let schemas;
    try {
      schemas = buildSchemas(current, schemaText.value, exampleText.value);
    } catch (error) {
      fill(slot, errorBox(error));
      return;
    }
    const saved = await run(slot, () =>
      current
        ? api.patch(`/event-type/${seg(current.name)}`, { description: description.value, schemas })
        : api.post("/event-type", { name: nameInput.value.trim(), description: description.value, schemas }),
    );
    if (saved) {
      announce("Event type saved");
      go(`/event-types/${encodeURIComponent(saved.name)}`);
      if (current) eventTypeScreen(main, api, saved.name);
    }
  });
  const archive = current ? archiveButton(main, api, current, slot) : null;
  fill(main, h("p", {}, h("a", { href: link("/event-types") }, "← Event types")), h("h2", { class: "mono" }, current ? current.name : "New event type"), current?.archived ? badge("Archived", "off") : null, h("div", { class: "panel" }, form), archive);
}

function archiveButton(main, api, current, slot) {
  const path = `/event-type/${seg(current.name)}`;
  if (current.archived) {
    return h("button", { type: "button", onclick: () => run(slot, () => api.patch(path, { archived: false })).then((ok) => ok && eventTypeScreen(main, api, current.name)) }, "Restore event type");
  }
  return h(
    "button",
    {
      type: "button",
      class: "danger",
      onclick: async () => {
        const sure = await confirmAction({ title: `Archive ${current.name}?`, body: "New endpoints can no longer choose it; endpoints that filter on it keep it.", confirm: "Archive" });
        if (sure && (await run(slot, () => api.del(path).then(() => true)))) eventTypeScreen(main, api, current.name);
      },
    },
    "Archive event type",
  );
}

/** The schema and example as Svix's `schemas`: the latest version (or "1") gets both. */
function buildSchemas(current, schemaText, exampleText) {
  const parse = (text, what) => {
    if (!text.trim()) return undefined;
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new Error(`The ${what} is not valid JSON: ${error.message}`);
    }
  };
  const schema = parse(schemaText, "schema");
  const example = parse(exampleText, "example");
  if (schema !== undefined && (typeof schema !== "object" || Array.isArray(schema) || schema === null)) {
    throw new Error("The schema must be a JSON object.");
  }
  if (schema === undefined && example === undefined) return null;
  const versions = Object.keys(current?.schemas || {}).sort((a, b) => Number(a) - Number(b));
  const version = versions.length ? versions[versions.length - 1] : "1";
  const entry = { ...(schema || {}) };
  if (example !== undefined) entry.examples = [example];
  return { ...(current?.schemas || {}), [version]: entry };
}
