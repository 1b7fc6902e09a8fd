// router.js: screens by the URL's fragment (#/endpoints/ep_...), so that the back button and
// links work inside an iframe without the server knowing any of it.

export class Router {
  /** `routes`: [pattern, render] pairs; a pattern like "/endpoints/:id" binds `id`. */
  constructor(routes, fallback) {
    this.routes = routes.map(([pattern, render]) => [compile(pattern), render]);
    this.fallback = fallback;
    this.onchange = null;
    window.addEventListener("hashchange", () => this.run());
  }

  current() {
    const raw = location.hash.replace(/^#/, "") || "/";
    const [path, search = ""] = raw.split("?");
    return { path, query: new URLSearchParams(search) };
  }

  run() {
    const { path, query } = this.current();
    for (const [regex, render] of this.routes) {
      const match = regex.exec(path);
      if (match) {
        if (this.onchange) this.onchange(path);
        return render({ ...match.groups }, query);
      }
    }
    return this.fallback(path);
  }
}

function compile(pattern) {
  const source = pattern
    .split("/")
    .map((part) => (part.startsWith(":") ? `(?<${part.slice(1)}>[^/]+)` : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}$`);
}

/** Goes to a screen. */
export function go(path) {
  location.hash = `#${path}`;
}

/** The fragment for a path with a query, leaving out empty values. */
export function link(path, query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  const search = params.toString();
  return `#${path}${search ? `?${search}` : ""}`;
}
