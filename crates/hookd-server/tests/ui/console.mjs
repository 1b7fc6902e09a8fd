// console.mjs: the operator console: sign-in (a wrong token refused, the right one typed and
// sent with Enter), the overview's figures with a failing and a held endpoint, applications
// with counts and search by uid, an application's screens, event types (create, edit schema
// and example, archive) and API tokens (create, shown once and working, revoke).

import { launch, step, check, shot, api, checkNames, checkFits, done, env } from "./lib.mjs";

const { context, errors, close } = await launch();
const page = await context.newPage();
const main = page.getByRole("main");

try {
  await step("a wrong token is refused; an admin token signs in with the keyboard", async () => {
    await page.goto(`${env.base}/`);
    await page.getByRole("heading", { name: "Sign in to hookd" }).waitFor();
    check(page.url().endsWith("/console"), `/ leads to the console: ${page.url()}`);
    await page.getByLabel("Admin token").fill("hk_admin_wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await main.getByText("hookd does not know this token.").waitFor();
    await page.getByLabel("Admin token").fill(env.portalToken);
    await page.keyboard.press("Enter");
    await main.getByText("sign in with an admin token").waitFor();
    await checkNames(page, "sign-in");
    await shot(page, "console-signin");
    await page.getByLabel("Admin token").fill(env.adminToken);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Overview" }).waitFor();
  });

  await step("the overview shows deliveries per minute, the queue, failing and held endpoints", async () => {
    const card = (label) => main.locator(".card", { hasText: label }).locator(".figure");
    check(Number(await card("Deliveries, last hour").textContent()) >= 6, "six attempts this hour");
    check(Number(await card("Queued").textContent()) >= 1, "retries wait in the queue");
    await main.getByRole("img", { name: /Attempts per minute in the last hour/ }).waitFor();
    const failing = main.getByRole("region", { name: "Failing endpoints" });
    await failing.getByRole("link", { name: env.failingUrl }).waitFor();
    const held = main.getByRole("region", { name: "Held endpoints" });
    await held.getByRole("link", { name: env.heldUrl }).waitFor();
    await checkNames(page, "overview");
    await shot(page, "console-overview");
  });

  await step("applications are listed with counts and found by uid", async () => {
    await page.getByRole("link", { name: "Applications" }).click();
    const row = main.getByRole("row", { name: /Billing/ });
    await row.waitFor();
    check((await row.textContent()).includes("2"), "two endpoints");
    await checkNames(page, "applications");
    await shot(page, "console-apps");
    await page.getByLabel("Application id or uid").fill("no-such-app");
    await page.getByRole("button", { name: "Find" }).click();
    await main.getByText("No application has the id or uid no-such-app.").waitFor();
    await page.getByLabel("Application id or uid").fill("billing");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Endpoints" }).waitFor();
    await main.getByRole("link", { name: env.failingUrl }).waitFor();
    await checkFits(page, "1280 px");
    await shot(page, "console-app-endpoints");
  });

  await step("an event type is created with a schema and an example, edited, and archived", async () => {
    await page.getByRole("link", { name: "Event types" }).click();
    await page.getByRole("link", { name: "New event type" }).click();
    await page.getByLabel("Name").fill("order.shipped");
    await page.getByLabel("Description").fill("An order left the warehouse");
    await page.getByLabel("Schema (JSON Schema)").fill('{"type": "object", "required": ["order"]}');
    await page.getByLabel("Example payload (JSON)").fill('{"order": "o_1"}');
    await page.getByRole("button", { name: "Create event type" }).click();
    await page.getByRole("heading", { name: "order.shipped" }).waitFor();
    let stored = (await api("GET", "/event-type/order.shipped")).body;
    check(JSON.stringify(stored.schemas["1"].examples) === '[{"order":"o_1"}]', JSON.stringify(stored));
    await page.getByLabel("Description").fill("An order was shipped");
    await page.getByLabel("Example payload (JSON)").fill('{"order": "o_2"}');
    await page.getByRole("button", { name: "Save" }).click();
    await main.getByText("Event type saved").or(page.getByRole("heading", { name: "order.shipped" })).first().waitFor();
    await page.waitForFunction(async () => true);
    stored = (await api("GET", "/event-type/order.shipped")).body;
    for (let i = 0; i < 50 && stored.description !== "An order was shipped"; i += 1) {
      await page.waitForTimeout(20);
      stored = (await api("GET", "/event-type/order.shipped")).body;
    }
    check(stored.description === "An order was shipped" && stored.schemas["1"].examples[0].order === "o_2", JSON.stringify(stored));
    await page.getByRole("button", { name: "Archive event type" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Archive" }).click();
    await page.getByRole("button", { name: "Restore event type" }).waitFor();
    check((await api("GET", "/event-type/order.shipped")).body.archived === true, "archived");
    await checkNames(page, "event type");
    await page.getByRole("link", { name: "← Event types" }).click();
    await main.getByRole("row", { name: /order.shipped.*Archived/ }).waitFor();
    await shot(page, "console-event-types");
  });

  await step("an API token is made, shown once, works, and is revoked", async () => {
    await page.getByRole("link", { name: "API tokens" }).click();
    await main.getByRole("row", { name: /this session/ }).waitFor();
    await page.getByLabel("Name of the new token").fill("CI deploys");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = (await page.locator("#new-token").textContent()).trim();
    check(token.startsWith("hk_admin_"), token);
    check((await api("GET", "/app", undefined, token)).status === 200, "the new token works");
    const listed = (await api("GET", "/token")).body.data;
    check(listed.some((t) => t.name === "CI deploys") && !JSON.stringify(listed).includes(token), "listed without the token");
    await checkNames(page, "tokens");
    await shot(page, "console-tokens");
    await page.getByRole("button", { name: "Revoke token CI deploys" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke token" }).click();
    await main.getByRole("row", { name: /CI deploys/ }).waitFor({ state: "detached" });
    check((await api("GET", "/app", undefined, token)).status === 401, "the revoked token fails");
  });

  await step("the console fits a phone", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole("link", { name: "Overview" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await checkFits(page, "a phone");
    await shot(page, "console-phone");
  });

  done(errors);
} catch (error) {
  await shot(page, "failure-console").catch(() => {});
  console.log("page errors:", errors);
  throw error;
} finally {
  await close();
}
