// console/signin.js: the console's sign-in: an admin token, checked against the API, kept in
// this tab's sessionStorage (never a cookie) until the operator signs out or closes the tab.

import { h, fill } from "../dom.js";
import { Api } from "../api.js";
import { errorBox, field } from "../widgets.js";

const STORAGE_KEY = "hookd-console-token";

export function storedToken() {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function forgetToken() {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing was stored.
  }
}

/** Checks that `token` is an admin token; resolves the session, or throws why not. */
export async function checkAdmin(api) {
  const session = await api.get("/auth/session");
  if (!session.admin) throw new Error("This token reaches one application only: sign in with an admin token.");
  return session;
}

/** Shows the form; resolves with an `Api` once an admin token signed in. */
export function signIn(main, reason) {
  return new Promise((resolve) => {
    const token = h("input", { type: "password", autocomplete: "off", spellcheck: "false", required: true });
    const slot = h("div", { "aria-live": "polite" });
    const form = h(
      "form",
      { class: "panel signin", "aria-labelledby": "signin-title" },
      h("h2", { id: "signin-title" }, "Sign in to hookd"),
      reason ? h("p", { class: "muted" }, reason) : null,
      field("Admin token", token, "The hk_admin_… token hookd printed at first start, or one made here under API tokens.")[0],
      h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Sign in")),
      slot,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const api = new Api(token.value.trim());
      try {
        await checkAdmin(api);
      } catch (error) {
        fill(slot, errorBox(error.status === 401 ? new Error("hookd does not know this token.") : error));
        return;
      }
      try {
        sessionStorage.setItem(STORAGE_KEY, api.token);
      } catch {
        // Storage is off: the token lasts as long as the page.
      }
      resolve(api);
    });
    document.getElementById("layout").classList.add("no-nav");
    fill(main, form);
    token.focus();
  });
}
