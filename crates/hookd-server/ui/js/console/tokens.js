// console/tokens.js: admin API tokens: the list (names and ids, never a token), making one
// (shown once, to copy then), and revoking one.

import { h, fill, when, cell } from "../dom.js";
import { seg } from "../api.js";
import { confirmAction, copyButton, errorBox, field, run } from "../widgets.js";

export async function tokensScreen(main, api) {
  const list = h("div");
  const created = h("div", { "aria-live": "polite" });
  const name = h("input", { type: "text", required: true, maxlength: 100, placeholder: "CI deploys" });
  const form = h("form", { class: "filters" }, field("Name of the new token", name)[0], h("button", { type: "submit", class: "primary" }, "Create token"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = await run(created, () => api.post("/token", { name: name.value.trim() }));
    if (!token) return;
    name.value = "";
    fill(
      created,
      h(
        "div",
        { class: "notice", role: "status" },
        h("p", {}, h("strong", {}, `Token “${token.name}” created. Copy it now: hookd shows it only this once.`)),
        h("div", { class: "row" }, h("code", { class: "secret", id: "new-token" }, token.token), copyButton("Copy the new token", () => token.token)),
      ),
    );
    load();
  });
  fill(main, h("h2", {}, "API tokens"), h("p", { class: "muted" }, "Admin tokens reach every application. hookd keeps only a hash of each."), h("div", { class: "panel" }, form, created), h("div", { class: "panel" }, list));
  async function load() {
    try {
      const tokens = await api.get("/token");
      fill(list, table(tokens.data));
    } catch (error) {
      fill(list, errorBox(error));
    }
  }
  function table(tokens) {
    const slot = h("div");
    return [
      slot,
      h(
        "table",
        { class: "responsive" },
        h("thead", {}, h("tr", {}, ["Name", "Id", "Created", "Revoke"].map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          {},
          tokens.map((t) =>
            h(
              "tr",
              {},
              cell("Name", t.name || h("span", { class: "muted" }, "(unnamed)"), t.current ? h("span", { class: "badge ok" }, " this session") : null),
              cell("Id", h("span", { class: "mono" }, t.id)),
              cell("Created", when(t.createdAt)),
              cell(
                "Revoke",
                h(
                  "button",
                  {
                    type: "button",
                    class: "danger",
                    "aria-label": `Revoke token ${t.name || t.id}`,
                    onclick: async () => {
                      const sure = await confirmAction({ title: "Revoke this token?", body: `${t.name || t.id} stops working at once${t.current ? ", and this session ends" : ""}.`, confirm: "Revoke token" });
                      if (sure && (await run(slot, () => api.del(`/token/${seg(t.id)}`).then(() => true)))) {
                        if (t.current) location.reload();
                        else load();
                      }
                    },
                  },
                  "Revoke",
                ),
              ),
            ),
          ),
        ),
      ),
    ];
  }
  await load();
}
