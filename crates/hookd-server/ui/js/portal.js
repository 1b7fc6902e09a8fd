// portal.js: the customer portal. The token comes in the URL's fragment (#token=..., as
// app-portal-access returns it), is taken out of the address bar at once and kept in this
// page only (sessionStorage where the browser allows it, so a reload keeps working; a
// third-party iframe with storage blocked keeps it in memory). No cookie is ever used.

import { h, fill } from "./dom.js";
import { Api } from "./api.js";
import { Router } from "./router.js";
import { applyTheme } from "./theme.js";
import { errorBox } from "./widgets.js";
import { appRoutes } from "./screens/app_routes.js";

const STORAGE_KEY = "hookd-portal-token";
const main = document.getElementById("main");

function takeToken() {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  const token = fragment.get("token");
  if (token) {
    try {
      sessionStorage.setItem(STORAGE_KEY, token);
    } catch {
      // Storage is blocked (a third-party frame): the token lives in memory only.
    }
    // Svix's `next`: the page to open, e.g. ?next=/messages.
    const next = new URLSearchParams(location.search).get("next");
    const start = next && /^\/[\w/-]*$/.test(next) ? next : "/endpoints";
    history.replaceState(null, "", `${location.pathname}${location.search}#${start}`);
    return token;
  }
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function expired() {
  fill(main, h("h2", {}, "This link has expired"), h("p", {}, "Open the webhooks page again from the dashboard you came from."));
  document.getElementById("nav-links").replaceChildren();
}

async function boot() {
  applyTheme();
  const token = takeToken();
  if (!token) return expired();
  const api = new Api(token);
  api.onUnauthorized = expired;
  let session;
  try {
    session = await api.get("/auth/session");
  } catch (error) {
    if (error.status === 401) return expired();
    return fill(main, errorBox(error));
  }
  if (session.admin) {
    return fill(main, h("h2", {}, "This is an admin token"), h("p", {}, "The portal shows one application. Use the console instead: "), h("a", { href: "/console" }, "open the console"));
  }
  const ctx = { api, appId: session.appId, readOnly: session.readOnly, base: "" };
  document.getElementById("brand").textContent = session.appName || "Webhooks";
  document.title = `Webhooks · ${session.appName || session.appId}`;
  fill(document.getElementById("who"), session.readOnly ? h("span", { class: "badge off" }, "View only") : null);
  const links = [
    ["/endpoints", "Endpoints"],
    ["/messages", "Messages"],
    ["/event-types", "Event catalog"],
  ].map(([path, text]) => h("a", { href: `#${path}`, "data-path": path }, text));
  fill(document.getElementById("nav-links"), links.map((a) => h("li", {}, a)));
  const router = new Router(appRoutes("", () => ctx, main), () => fill(main, h("h2", {}, "Not found"), h("p", {}, "There is no such page.")));
  router.onchange = (path) => {
    for (const a of links) {
      if (path.startsWith(a.dataset.path)) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
  };
  router.run();
}

boot();
