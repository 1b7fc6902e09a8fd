// screens/catalog.js: the event catalog: each event type with its description, its schema
// and an example payload, as the provider declared them.

import { h, fill } from "../dom.js";
import { errorBox } from "../widgets.js";
import { catalog } from "./endpoint_form.js";

/** The latest schema version of an event type, and its first example. */
export function latestSchema(eventType) {
  const versions = Object.keys(eventType.schemas || {}).sort((a, b) => Number(a) - Number(b));
  const schema = versions.length ? eventType.schemas[versions[versions.length - 1]] : null;
  if (!schema || typeof schema !== "object") return { schema: null, example: null };
  const { examples, ...rest } = schema;
  return { schema: rest, example: Array.isArray(examples) && examples.length ? examples[0] : null };
}

export async function catalogScreen(main, ctx) {
  fill(main, h("h2", {}, "Event catalog"), h("p", { class: "muted" }, "Loading…"));
  let types;
  try {
    types = await catalog(ctx.api);
  } catch (error) {
    fill(main, h("h2", {}, "Event catalog"), errorBox(error));
    return;
  }
  fill(
    main,
    h("h2", {}, "Event catalog"),
    h("p", { class: "muted" }, "The events this application can send you."),
    types.length ? types.map((t) => card(t)) : h("p", {}, "No event types are declared yet."),
  );
}

function card(eventType) {
  const { schema, example } = latestSchema(eventType);
  return h(
    "section",
    { class: "panel", "aria-label": eventType.name },
    h("h3", { class: "mono" }, eventType.name, eventType.deprecated ? h("span", { class: "badge warn" }, " deprecated") : null),
    h("p", {}, eventType.description || h("span", { class: "muted" }, "No description.")),
    schema ? h("details", {}, h("summary", {}, "Schema"), h("pre", {}, JSON.stringify(schema, null, 2))) : null,
    example !== null ? h("details", { open: true }, h("summary", {}, "Example"), h("pre", {}, JSON.stringify(example, null, 2))) : null,
  );
}
