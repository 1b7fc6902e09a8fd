// api.js: the only way the pages reach hookd: its JSON API under /api/v1, with the token as
// a bearer header (never a cookie), so the portal works in a third-party iframe.

export class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
  }
}

/** Svix's error bodies, `{code, detail}` or a 422's `{detail: [{loc, msg}]}`, in words. */
function describe(status, body) {
  if (body && Array.isArray(body.detail)) {
    return body.detail
      .map((item) => `${(item.loc || []).filter((p) => p !== "body").join(".")}: ${item.msg}`)
      .join("; ");
  }
  if (body && typeof body.detail === "string") return body.detail;
  if (status === 0) return "hookd cannot be reached";
  return `hookd answered ${status}`;
}

export class Api {
  constructor(token) {
    this.token = token;
    /** Called when the token stops working (401): the page asks for a new one. */
    this.onUnauthorized = null;
  }

  async request(method, path, { query, body } = {}) {
    const url = new URL(`/api/v1${path}`, location.origin);
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
    }
    const headers = { Authorization: `Bearer ${this.token}`, Accept: "application/json" };
    const init = { method, headers, credentials: "omit", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      throw new ApiError(0, null);
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { detail: text };
      }
    }
    if (!response.ok) {
      if (response.status === 401 && this.onUnauthorized) this.onUnauthorized();
      throw new ApiError(response.status, data);
    }
    return data;
  }

  get(path, query) {
    return this.request("GET", path, { query });
  }
  post(path, body = {}, query) {
    return this.request("POST", path, { body, query });
  }
  put(path, body) {
    return this.request("PUT", path, { body });
  }
  patch(path, body) {
    return this.request("PATCH", path, { body });
  }
  del(path, query) {
    return this.request("DELETE", path, { query });
  }
}

/** A path segment: ids and uids as they are, but escaped. */
export function seg(value) {
  return encodeURIComponent(value);
}
