// screens/app_routes.js: the screens of one application, under a path prefix: "" in the
// portal, "/apps/<id>" in the console, which shows any application the way its portal does.

import { fill, h } from "../dom.js";
import { go } from "../router.js";
import { endpointsScreen } from "./endpoints.js";
import { endpointScreen } from "./endpoint.js";
import { endpointFormScreen } from "./endpoint_form.js";
import { messagesScreen } from "./messages.js";
import { messageScreen } from "./message.js";
import { catalogScreen } from "./catalog.js";

/** `context(params)` gives a screen its {api, appId, readOnly, base}. */
export function appRoutes(prefix, context, main) {
  const readOnlyRefusal = () => fill(main, h("h2", {}, "Read-only"), h("p", {}, "This portal is read-only: it cannot change anything."));
  return [
    [`${prefix}/endpoints`, (p) => endpointsScreen(main, context(p))],
    [`${prefix}/endpoints/new`, (p) => (context(p).readOnly ? readOnlyRefusal() : endpointFormScreen(main, context(p)))],
    [`${prefix}/endpoints/:endpoint`, (p) => endpointScreen(main, context(p), p.endpoint)],
    [`${prefix}/endpoints/:endpoint/edit`, (p) => (context(p).readOnly ? readOnlyRefusal() : endpointFormScreen(main, context(p), p.endpoint))],
    [`${prefix}/messages`, (p, q) => messagesScreen(main, context(p), q)],
    [`${prefix}/messages/:msg`, (p) => messageScreen(main, context(p), p.msg)],
    [`${prefix}/event-types`, (p) => catalogScreen(main, context(p))],
    [prefix || "/", (p) => go(`${context(p).base}/endpoints`)],
  ];
}
