// lib.mjs: what the UI scripts share: Debian's Chromium through playwright-core (loaded from
// HOOKD_TEST_NODE_MODULES), a fresh profile that blocks third-party cookies, screenshots
// under target/ui-screenshots, the admin API for checks, and steps that print as they pass.

import { createRequire } from "node:module";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(join(process.env.HOOKD_TEST_NODE_MODULES, "noop.js"));
const { chromium } = require("playwright-core");

export const env = JSON.parse(process.env.HOOKD_UI_FIXTURE);

/** A persistent context on a fresh user-data-dir whose preferences block third-party cookies. */
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), "hookd-ui-"));
  mkdirSync(join(profile, "Default"), { recursive: true });
  const prefs = { profile: { block_third_party_cookies: true, cookie_controls_mode: 1 } };
  writeFileSync(join(profile, "Default", "Preferences"), JSON.stringify(prefs));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.HOOKD_TEST_CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--test-third-party-cookie-phaseout",
    ],
  });
  const errors = [];
  context.on("weberror", (e) => errors.push(String(e.error())));
  context.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, errors, close };
}

let stepNo = 0;
/** Runs one step and prints it, so a failure says where it happened. */
export async function step(name, body) {
  stepNo += 1;
  const started = Date.now();
  try {
    const result = await body();
    console.log(`ok ${stepNo} - ${name} (${Date.now() - started} ms)`);
    return result;
  } catch (error) {
    console.log(`not ok ${stepNo} - ${name}`);
    throw error;
  }
}

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

export async function shot(page, name) {
  mkdirSync(env.screenshots, { recursive: true });
  await page.screenshot({ path: join(env.screenshots, `${name}.png`), fullPage: true });
}

/** The admin API, for checking what the UI did. */
export async function api(method, path, body, token = env.adminToken) {
  const response = await fetch(`${env.base}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Polls `probe` until it returns something truthy (an event the server will produce). */
export async function eventually(what, probe, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every control on the page has an accessible name (label, aria-label or text). */
export async function checkNames(frame, where) {
  const unnamed = await frame.evaluate(() => {
    const name = (el) =>
      (el.getAttribute("aria-label") || "").trim() ||
      (el.labels ? [...el.labels].map((l) => l.textContent).join("").trim() : "") ||
      (el.getAttribute("aria-labelledby") ? document.getElementById(el.getAttribute("aria-labelledby"))?.textContent.trim() : "") ||
      (el.tagName === "INPUT" ? "" : el.textContent.trim()) ||
      (el.getAttribute("title") || "").trim();
    return [...document.querySelectorAll("button, input, select, textarea, a[href], summary")]
      .filter((el) => el.offsetParent !== null && !name(el))
      .map((el) => el.outerHTML.slice(0, 120));
  });
  check(unnamed.length === 0, `${where}: controls without an accessible name: ${unnamed.join(" | ")}`);
}

/** The page fits its viewport: nothing wider than the screen. */
export async function checkFits(page, where) {
  const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
  check(scroll <= width + 1, `${where}: ${scroll} px wide in a ${width} px viewport`);
}

export function done(errors) {
  const real = errors.filter((e) => !e.includes("the server responded with a status of"));
  check(real.length === 0, `the pages logged errors: ${real.join(" | ")}`);
  console.log("all steps passed");
}
