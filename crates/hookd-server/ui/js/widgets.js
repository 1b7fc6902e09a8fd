// widgets.js: the pieces every screen shares: a confirmation dialog, error and notice boxes,
// a pager over the API's iterators, a copy button, labelled form fields and status badges.

import { h, fill, announce } from "./dom.js";

/** Asks before something that cannot be undone; resolves true when confirmed. */
export function confirmAction({ title, body, confirm, danger = true }) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { "aria-labelledby": "confirm-title" });
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    fill(
      dialog,
      h("h2", { id: "confirm-title" }, title),
      h("p", {}, body),
      h(
        "div",
        { class: "row" },
        h("button", { type: "button", class: danger ? "danger" : "primary", onclick: () => done(true) }, confirm),
        h("button", { type: "button", onclick: () => done(false) }, "Cancel"),
      ),
    );
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

export function errorBox(error) {
  const text = error instanceof Error ? error.message : String(error);
  announce(text);
  return h("div", { class: "error", role: "alert" }, text);
}

export function notice(text) {
  announce(text);
  return h("div", { class: "notice", role: "status" }, text);
}

/** Shows the outcome of `action` in `slot`: its notice, or the error it threw. */
export async function run(slot, action, doneText) {
  fill(slot);
  try {
    const result = await action();
    if (doneText) fill(slot, notice(typeof doneText === "function" ? doneText(result) : doneText));
    return result;
  } catch (error) {
    fill(slot, errorBox(error));
    return undefined;
  }
}

/**
 * A list paged through the API: `load(iterator)` fetches a page ({data, iterator, done}),
 * `render(items)` draws it. Previous walks back the iterators seen.
 */
export function pager(container, { load, render, label }) {
  const trail = [];
  let current = null;
  const status = h("span", { class: "muted" });
  const prev = h("button", { type: "button", "aria-label": `Previous page of ${label}` }, "Previous");
  const next = h("button", { type: "button", "aria-label": `Next page of ${label}` }, "Next");
  const body = h("div");
  const slot = h("div");
  const controls = h("div", { class: "pager" }, status, prev, next);
  fill(container, slot, body, controls);
  async function show(iterator) {
    prev.disabled = next.disabled = true;
    try {
      const page = await load(iterator);
      current = iterator;
      fill(slot);
      fill(body, render(page.data));
      // For the first-paint measure (tests/ui/perf.mjs): when the list is on screen.
      performance.mark(`${label} shown`);
      prev.disabled = trail.length === 0;
      next.disabled = page.done || !page.iterator;
      next.dataset.iterator = page.iterator || "";
      status.textContent = page.data.length ? `page ${trail.length + 1}` : "";
    } catch (error) {
      fill(slot, errorBox(error));
    }
  }
  prev.addEventListener("click", () => show(trail.pop() ?? null));
  next.addEventListener("click", () => {
    trail.push(current);
    show(next.dataset.iterator);
  });
  show(null);
  return { reload: () => show(current) };
}

/** Copies `text()` to the clipboard, and says so. */
export function copyButton(label, text) {
  const button = h("button", { type: "button", "aria-label": label }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text());
      button.textContent = "Copied";
      announce("Copied to the clipboard");
    } catch {
      button.textContent = "Copy failed: select the text and copy it";
    }
  });
  return button;
}

/** A labelled input; `attrs` go to the control. Returns [wrapper, control]. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2)}`;
  control.id = id;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return [h("div", {}, h("label", { for: id }, label), control, hintEl), control];
}

const DELIVERY = { 0: ["Succeeded", "ok"], 1: ["Pending", "warn"], 2: ["Failed", "bad"], 3: ["Sending", "warn"] };

/** A message or attempt status (0 success, 1 pending, 2 fail, 3 sending) as a badge. */
export function statusBadge(code) {
  const [text, kind] = DELIVERY[code] || [`Status ${code}`, "off"];
  return h("span", { class: `badge ${kind}` }, text);
}

export function badge(text, kind) {
  return h("span", { class: `badge ${kind}` }, text);
}

/** Why an attempt failed, in words, from what the API keeps of it. */
export function attemptReason(attempt) {
  if (attempt.status === 0) return `HTTP ${attempt.responseStatusCode}`;
  if (attempt.responseStatusCode === 0) return attempt.response || "no answer";
  return `HTTP ${attempt.responseStatusCode}`;
}
