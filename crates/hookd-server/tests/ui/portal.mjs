// portal.mjs: the customer portal inside an iframe of another site (localhost embeds
// 127.0.0.1) with third-party cookies blocked, driven as a person would: add an endpoint
// (a failed challenge first), reveal, copy and rotate its secret, send an example, filter the
// log, resend, recover, edit, disable, delete; payloads and responses with markup stay text;
// the token cannot reach another application; a read-only, themed portal; a phone's width.

import { launch, step, check, shot, api, eventually, checkNames, checkFits, done, env } from "./lib.mjs";

const { context, errors, close } = await launch();
await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: env.base });
const page = await context.newPage();
const f = page.frameLocator('iframe[title="Webhooks portal"]');
const frame = () => page.frames().find((fr) => fr.url().startsWith(env.base));
const app = `/app/${env.appId}`;
let endpointId;

try {
  await step("the host page on another site shows the portal in its iframe", async () => {
    await page.goto(env.host);
    await f.getByRole("heading", { name: "Endpoints" }).waitFor();
    check(new URL(env.host).hostname !== new URL(env.base).hostname, "two sites");
    await f.getByRole("navigation", { name: "Main" }).getByText("Acme").waitFor();
  });

  await step("the framed portal has no cookies to use: it works on its header token", async () => {
    const cookie = await frame().evaluate(() => {
      document.cookie = "probe=1; path=/";
      return document.cookie;
    });
    check(cookie === "", `a cookie was kept in the third-party frame: ${cookie}`);
  });

  await step("an endpoint that fails the challenge is refused, in plain words", async () => {
    await f.getByRole("link", { name: "Add endpoint" }).click();
    await f.getByLabel("Endpoint URL").fill(env.badUrl);
    await f.getByRole("button", { name: "Add endpoint" }).click();
    const alert = f.getByRole("alert");
    await alert.getByText("could not verify this URL").waitFor();
    const text = await alert.textContent();
    check(text.includes('"nope"'), `says what the URL answered: ${text}`);
    check(text.includes("challenge"), "says what it should do");
    const listed = await api("GET", `${app}/endpoint`);
    check(listed.body.data.length === 0, "nothing stored");
    await checkNames(frame(), "add endpoint");
    await shot(page, "portal-challenge-failed");
  });

  await step("an endpoint that answers the challenge is added with its event types", async () => {
    await f.getByLabel("Endpoint URL").fill(env.goodUrl);
    await f.getByLabel("Description").fill("Main receiver");
    await f.getByLabel("invoice.paid").check();
    await f.getByLabel("invoice.failed").check();
    await f.getByRole("button", { name: "Add endpoint" }).click();
    await f.getByRole("heading", { name: env.goodUrl }).waitFor();
    const listed = await api("GET", `${app}/endpoint`);
    check(listed.body.data.length === 1, "one endpoint");
    const ep = listed.body.data[0];
    endpointId = ep.id;
    check(ep.description === "Main receiver", "description");
    check(JSON.stringify([...ep.eventTypes].sort()) === '["invoice.failed","invoice.paid"]', `types ${ep.eventTypes}`);
  });

  const failing = await step("a message that fails for good and one with markup in it are delivered", async () => {
    const failed = await api("POST", `${app}/msg`, { eventType: "invoice.failed", payload: { invoice: "in_9" } });
    await eventually("the failure to be final", async () => {
      const d = await api("GET", `${app}/msg/${failed.body.id}/endpoint`);
      return d.body.data[0]?.status === 2;
    });
    const html = await api("POST", `${app}/msg`, { eventType: "invoice.paid", payload: env.htmlPayload });
    await eventually("the delivery", async () => {
      const d = await api("GET", `${app}/msg/${html.body.id}/endpoint`);
      return d.body.data[0]?.status === 0;
    });
    return { failed: failed.body.id, html: html.body.id };
  });

  await step("the endpoint's page shows the attempts, their answers as text, and the chart", async () => {
    await frame().evaluate((id) => (location.hash = `#/endpoints/${id}/x`), endpointId);
    await frame().evaluate((id) => (location.hash = `#/endpoints/${id}`), endpointId);
    await f.getByRole("heading", { name: "Recent attempts" }).waitFor();
    await f.getByRole("img", { name: /Attempts in the last day: 5 attempts, 1 succeeded, 4 failed/ }).waitFor();
    await f.getByRole("main").getByText("HTTP 500").first().waitFor();
    const inert = await frame().evaluate(() => ({
      pwned: window.__pwned,
      scripts: document.querySelectorAll("main script, main img").length,
      text: document.querySelector("main").textContent.includes("<script>window.__pwned=3</script>"),
    }));
    check(inert.pwned === undefined && inert.scripts === 0 && inert.text, `response bodies inert: ${JSON.stringify(inert)}`);
    await checkNames(frame(), "endpoint page");
    await shot(page, "portal-endpoint");
  });

  await step("the secret is hidden until revealed, then copied", async () => {
    const secret = await api("GET", `${app}/endpoint/${endpointId}/secret`);
    check(!(await f.locator("#secret-value").textContent()).includes("whsec_"), "hidden at first");
    await f.getByRole("button", { name: "Reveal secret" }).click();
    await f.locator("#secret-value").getByText(secret.body.key).waitFor();
    await f.getByRole("button", { name: "Copy signing secret" }).click();
    await f.getByRole("button", { name: "Copy signing secret" }).getByText("Copied").waitFor();
    const copied = await frame().evaluate(() => navigator.clipboard.readText().catch(() => null));
    check(copied === null || copied === secret.body.key, "the clipboard holds the secret");
  });

  await step("rotating asks first, then shows the new secret", async () => {
    const before = (await api("GET", `${app}/endpoint/${endpointId}/secret`)).body.key;
    await f.getByRole("button", { name: "Rotate secret" }).click();
    const dialog = f.getByRole("dialog", { name: "Rotate the signing secret?" });
    await dialog.getByRole("button", { name: "Cancel" }).click();
    check((await api("GET", `${app}/endpoint/${endpointId}/secret`)).body.key === before, "cancel changes nothing");
    await f.getByRole("button", { name: "Rotate secret" }).click();
    await dialog.getByRole("button", { name: "Rotate secret" }).click();
    await f.getByRole("main").getByText("Secret rotated").waitFor();
    const after = (await api("GET", `${app}/endpoint/${endpointId}/secret`)).body.key;
    check(after !== before, "a new secret");
    await f.locator("#secret-value").getByText(after).waitFor();
  });

  await step("an example event of a chosen type is sent", async () => {
    await f.getByLabel("Event type").selectOption("invoice.paid");
    await f.getByRole("button", { name: "Send example" }).click();
    const note = f.getByRole("main").getByText(/Example invoice.paid sent as msg_/);
    await note.waitFor();
    const id = (await note.textContent()).match(/msg_\w+/)[0];
    const msg = await api("GET", `${app}/msg/${id}`);
    check(JSON.stringify(msg.body.payload) === JSON.stringify(env.example), `the catalog's example: ${JSON.stringify(msg.body.payload)}`);
  });

  await step("the log filters by event type and by delivery status", async () => {
    await f.getByRole("link", { name: "Messages" }).click();
    await f.getByRole("link", { name: failing.html }).waitFor();
    await f.getByLabel("Event type").selectOption("invoice.failed");
    await f.getByRole("button", { name: "Filter" }).click();
    await f.getByRole("link", { name: failing.failed }).waitFor();
    check((await f.getByRole("link", { name: failing.html }).count()) === 0, "only invoice.failed");
    await f.getByRole("link", { name: "Clear" }).click();
    await f.getByLabel("Delivery status").selectOption("2");
    await f.getByRole("button", { name: "Filter" }).click();
    await f.getByRole("link", { name: failing.failed }).waitFor();
    await f.getByRole("main").getByText("No messages match.").or(f.getByRole("link", { name: failing.failed })).first().waitFor();
    check((await f.getByRole("link", { name: failing.html }).count()) === 0, "only failed");
    await f.getByLabel("Sent after").fill("2000-01-01T00:00");
    await f.getByLabel("Sent before").fill("2000-01-02T00:00");
    await f.getByRole("button", { name: "Filter" }).click();
    await f.getByRole("main").getByText("No messages match.").waitFor();
    await checkNames(frame(), "messages");
    await f.getByRole("link", { name: "Clear" }).click();
    await f.getByRole("link", { name: failing.html }).waitFor();
    await shot(page, "portal-messages");
  });

  await step("a message's payload with markup is text, and it is resent to its endpoint", async () => {
    await f.getByRole("link", { name: failing.html }).click();
    await f.getByRole("heading", { name: "Payload" }).waitFor();
    const inert = await frame().evaluate(() => ({
      pwned: window.__pwned,
      elements: document.querySelectorAll("main img, main script").length,
      text: document.querySelector("main pre").textContent,
    }));
    check(inert.pwned === undefined && inert.elements === 0, `payload inert: ${JSON.stringify(inert)}`);
    check(inert.text.includes('<img src=x onerror=\\"window.__pwned=1\\">'), `shown as text: ${inert.text}`);
    await f.getByRole("button", { name: `Resend to ${env.goodUrl}` }).click();
    await f.getByRole("main").getByText(`Resending to ${env.goodUrl}`).waitFor();
    await eventually("a manual attempt", async () => {
      const a = await api("GET", `${app}/attempt/msg/${failing.html}`);
      return a.body.data.some((x) => x.triggerType === 1 && x.status === 0);
    });
    await shot(page, "portal-message");
  });

  await step("failed messages are recovered since a time", async () => {
    await frame().evaluate((id) => (location.hash = `#/endpoints/${id}`), endpointId);
    await f.getByRole("button", { name: "Recover failed messages" }).click();
    await f.getByRole("main").getByText(/Recovering failed messages since/).waitFor();
    await eventually("the failed message delivered", async () => {
      const d = await api("GET", `${app}/msg/${failing.failed}/endpoint`);
      return d.body.data[0]?.status === 0;
    });
  });

  await step("the event catalog shows descriptions, schemas and examples", async () => {
    await f.getByRole("link", { name: "Event catalog" }).click();
    const card = f.getByRole("region", { name: "invoice.paid" });
    await card.getByText("An invoice was paid").waitFor();
    await card.getByText('"amount": 4200').waitFor();
    await card.getByText("Schema").click();
    await card.getByText('"required"').waitFor();
    await checkNames(frame(), "catalog");
    await shot(page, "portal-catalog");
  });

  await step("the portal's token cannot see another application", async () => {
    const status = await frame().evaluate(
      async ([other, token]) => (await fetch(`/api/v1/app/${other}/endpoint`, { headers: { Authorization: `Bearer ${token}` } })).status,
      [env.otherAppId, env.portalToken],
    );
    check(status === 403, `another application's endpoints: ${status}`);
    await frame().evaluate((id) => (location.hash = `#/endpoints/${id}`), env.otherEndpointId);
    await f.getByRole("alert").getByText("endpoint not found").waitFor();
    await f.getByRole("link", { name: "Endpoints" }).first().click();
    await f.getByRole("link", { name: env.goodUrl }).waitFor();
    check((await f.getByRole("main").getByText(env.otherUrl).count()) === 0, "the other application's endpoint is not listed");
  });

  await step("editing changes the description, rate limit and custom headers", async () => {
    await f.getByRole("link", { name: env.goodUrl }).click();
    await f.getByRole("link", { name: "Edit" }).click();
    await f.getByLabel("Description").fill("Billing receiver");
    await f.getByLabel("Rate limit (deliveries per second)").fill("10");
    await f.getByRole("button", { name: "Add header" }).click();
    await f.getByLabel("Header name").last().fill("X-Team");
    await f.getByLabel("Value of header new").last().fill("blue");
    await f.getByRole("button", { name: "Save" }).click();
    await f.getByRole("heading", { name: env.goodUrl }).waitFor();
    const ep = (await api("GET", `${app}/endpoint/${endpointId}`)).body;
    check(ep.description === "Billing receiver" && ep.throttleRate === 10, JSON.stringify(ep));
    const headers = (await api("GET", `${app}/endpoint/${endpointId}/headers`)).body;
    check(headers.headers["X-Team"] === "blue", JSON.stringify(headers));
  });

  await step("disable and enable", async () => {
    await f.getByRole("button", { name: "Disable" }).click();
    await f.getByRole("button", { name: "Enable" }).waitFor();
    check((await api("GET", `${app}/endpoint/${endpointId}`)).body.disabled === true, "disabled");
    await f.getByRole("button", { name: "Enable" }).click();
    await f.getByRole("button", { name: "Disable" }).waitFor();
    check((await api("GET", `${app}/endpoint/${endpointId}`)).body.disabled === false, "enabled");
  });

  await step("deleting asks first; Escape keeps the endpoint", async () => {
    await f.getByRole("button", { name: "Delete", exact: true }).click();

    await f.getByRole("dialog", { name: "Delete this endpoint?" }).waitFor();
    await page.keyboard.press("Escape");
    check((await api("GET", `${app}/endpoint/${endpointId}`)).status === 200, "still there");
    await f.getByRole("button", { name: "Delete" }).click();
    await f.getByRole("dialog").getByRole("button", { name: "Delete endpoint" }).click();
    await f.getByRole("main").getByText("No endpoints yet.").waitFor();
    check((await api("GET", `${app}/endpoint/${endpointId}`)).status === 404, "deleted");
    await shot(page, "portal-embedded");
  });

  await step("the keyboard reaches the navigation", async () => {
    await frame().evaluate(() => document.querySelector("#nav-links a").focus());
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await f.getByRole("heading", { name: "Messages" }).waitFor();
  });

  await step("a read-only, themed portal shows everything and changes nothing", async () => {
    endpointId = (await api("POST", `${app}/endpoint`, { url: env.goodUrl })).body.id;
    const url = new URL(env.readOnlyUrl);
    url.search = "?primaryColor=ff6600&darkMode=true&noNav=true";
    const viewer = await context.newPage();
    await viewer.goto(url.toString());
    await viewer.getByRole("link", { name: env.goodUrl }).waitFor();
    check((await viewer.getByRole("link", { name: "Add endpoint" }).count()) === 0, "no add button");
    const theme = await viewer.evaluate(() => ({
      dark: document.documentElement.classList.contains("dark"),
      primary: getComputedStyle(document.documentElement).getPropertyValue("--primary").trim(),
      nav: getComputedStyle(document.getElementById("nav")).display,
    }));
    check(theme.dark && theme.primary === "#ff6600" && theme.nav === "none", JSON.stringify(theme));
    check(!viewer.url().includes("token="), "the token left the address bar");
    await viewer.getByRole("link", { name: env.goodUrl }).click();
    await viewer.getByRole("button", { name: "Reveal secret" }).waitFor();
    for (const name of ["Rotate secret", "Delete", "Disable", "Send example"]) {
      check((await viewer.getByRole("button", { name }).count()) === 0, `no ${name}`);
    }
    const refused = await viewer.evaluate(
      async ([path, token]) => {
        const r = await fetch(`/api/v1${path}/send-example`, {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify({ eventType: "invoice.paid" }),
        });
        return [r.status, await r.text()];
      },
      [`${app}/endpoint/${endpointId}`, env.readOnlyToken],
    );
    check(refused[0] === 403 && refused[1].includes("read-only"), `the API refuses: ${refused}`);
    await checkFits(viewer, "1280 px");
    await shot(viewer, "portal-read-only-dark");
    await viewer.setViewportSize({ width: 1024, height: 800 });
    await checkFits(viewer, "1024 px");
    await viewer.setViewportSize({ width: 390, height: 844 });
    await checkFits(viewer, "a phone");
    await shot(viewer, "portal-phone");
    await viewer.close();
  });

  done(errors);
} catch (error) {
  await shot(page, "failure-portal").catch(() => {});
  console.log("page errors:", errors);
  throw error;
} finally {
  await close();
}
