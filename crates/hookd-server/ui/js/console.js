// console.js: the operator console: sign in with an admin token, then the overview, every
// application (each shown with the portal's screens), event types and API tokens.

import { h, fill } from "./dom.js";
import { Api } from "./api.js";
import { Router, go } from "./router.js";
import { applyTheme } from "./theme.js";
import { appRoutes } from "./screens/app_routes.js";
import { signIn, storedToken, forgetToken, checkAdmin } from "./console/signin.js";
import { overviewScreen } from "./console/overview.js";
import { appsScreen } from "./console/apps.js";
import { eventTypesScreen, eventTypeScreen } from "./console/event_types.js";
import { tokensScreen } from "./console/tokens.js";

const main = document.getElementById("main");

async function session() {
  const stored = storedToken();
  if (stored) {
    const api = new Api(stored);
    try {
      await checkAdmin(api);
      return api;
    } catch {
      forgetToken();
      return signIn(main, "Your session ended: sign in again.");
    }
  }
  return signIn(main);
}

function signOut() {
  forgetToken();
  location.hash = "";
  location.reload();
}

async function boot() {
  applyTheme();
  const api = await session();
  api.onUnauthorized = signOut;
  document.getElementById("layout").classList.remove("no-nav");
  const links = [
    ["/overview", "Overview"],
    ["/apps", "Applications"],
    ["/event-types", "Event types"],
    ["/tokens", "API tokens"],
  ].map(([path, text]) => h("a", { href: `#${path}`, "data-path": path }, text));
  fill(document.getElementById("nav-links"), links.map((a) => h("li", {}, a)), h("li", {}, h("button", { type: "button", onclick: signOut }, "Sign out")));
  fill(document.getElementById("who"), "Signed in with an admin token");
  const app = (p) => ({ api, appId: decodeURIComponent(p.app), readOnly: false, base: `/apps/${p.app}` });
  const routes = [
    ["/overview", () => overviewScreen(main, api)],
    ["/apps", () => appsScreen(main, api)],
    ...appRoutes("/apps/:app", app, main),
    ["/event-types", () => eventTypesScreen(main, api)],
    ["/event-types/new", () => eventTypeScreen(main, api, null)],
    ["/event-types/:name", (p) => eventTypeScreen(main, api, decodeURIComponent(p.name))],
    ["/tokens", () => tokensScreen(main, api)],
    ["/", () => go("/overview")],
  ];
  const router = new Router(routes, () => fill(main, h("h2", {}, "Not found"), h("p", {}, "There is no such page.")));
  router.onchange = (path) => {
    for (const a of links) {
      if (path.startsWith(a.dataset.path)) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
  };
  router.run();
}

boot();
