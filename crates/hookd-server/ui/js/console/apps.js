// console/apps.js: every application with its endpoint and message counts, a page at a
// time, and a search by id or uid that opens the application's screens.

import { h, fill, when, cell } from "../dom.js";
import { seg } from "../api.js";
import { go, link } from "../router.js";
import { errorBox, field, pager } from "../widgets.js";

export function appsScreen(main, api) {
  const query = h("input", { type: "search", placeholder: "app_… or your uid" });
  const slot = h("div");
  const search = h("form", { class: "filters", role: "search", "aria-label": "Find an application" }, field("Application id or uid", query)[0], h("button", { type: "submit", class: "primary" }, "Find"), slot);
  search.addEventListener("submit", async (event) => {
    event.preventDefault();
    fill(slot);
    const wanted = query.value.trim();
    if (!wanted) return;
    try {
      const app = await api.get(`/app/${seg(wanted)}`);
      go(`/apps/${app.id}/endpoints`);
    } catch (error) {
      fill(slot, errorBox(error.status === 404 ? new Error(`No application has the id or uid ${wanted}.`) : error));
    }
  });
  const list = h("div");
  fill(main, h("h2", {}, "Applications"), h("div", { class: "panel" }, search), h("div", { class: "panel" }, list));
  pager(list, {
    label: "applications",
    load: async (iterator) => {
      const page = await api.get("/app", { limit: 50, iterator });
      const ids = page.data.map((a) => a.id);
      const counts = ids.length ? await api.get("/stats/app", { app: ids.join(",") }) : { data: [] };
      page.counts = new Map(counts.data.map((c) => [c.appId, c]));
      page.data = page.data.map((a) => ({ ...a, counts: page.counts.get(a.id) }));
      return page;
    },
    render: (apps) => table(apps),
  });
}

function table(apps) {
  if (!apps.length) return h("p", {}, "No applications yet.");
  return h(
    "table",
    { class: "responsive" },
    h("thead", {}, h("tr", {}, ["Name", "Id", "Uid", "Endpoints", "Messages", "Created"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      apps.map((a) =>
        h(
          "tr",
          {},
          cell("Name", h("a", { href: link(`/apps/${a.id}/endpoints`) }, a.name)),
          cell("Id", h("span", { class: "mono" }, a.id)),
          cell("Uid", a.uid || h("span", { class: "muted" }, "—")),
          cell("Endpoints", String(a.counts?.endpoints ?? "")),
          cell("Messages", String(a.counts?.messages ?? "")),
          cell("Created", when(a.createdAt)),
        ),
      ),
    ),
  );
}
