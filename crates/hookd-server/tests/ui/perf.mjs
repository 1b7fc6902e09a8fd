// perf.mjs: how soon the portal's message log is on screen with 10,000 messages in it. Each
// load is a new tab: the first with nothing cached, then five more. Prints the first
// contentful paint and when the log's first page was drawn ("messages shown"), in ms from the
// start of navigation, as measured by the page's own Performance timeline.

import { launch, step, check, done, env } from "./lib.mjs";

const { context, errors, close } = await launch();
const loads = [];
try {
  for (let i = 0; i < 6; i += 1) {
    await step(`load ${i + 1} of the message log`, async () => {
      const page = await context.newPage();
      await page.goto(env.portalUrl);
      await page.getByRole("link", { name: /^msg_/ }).first().waitFor();
      const figures = await page.evaluate(() => ({
        paint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime,
        shown: performance.getEntriesByName("messages shown")[0]?.startTime,
        rows: document.querySelectorAll("main tbody tr").length,
        api: performance
          .getEntriesByType("resource")
          .filter((r) => r.name.includes("/api/v1/"))
          .map((r) => `${new URL(r.name).pathname.split("/").pop()} ${r.startTime.toFixed(0)}+${r.duration.toFixed(0)}`)
          .join(", "),
      }));
      check(figures.rows === 50, `one page of 50, not the whole log: ${figures.rows}`);
      loads.push(figures);
      console.log(`  paint ${figures.paint?.toFixed(0)} ms, shown ${figures.shown?.toFixed(0)} ms; API calls (start+duration): ${figures.api}`);
      await page.close();
    });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const warm = loads.slice(1);
  const cold = loads[0];
  console.log(`figure: cold first paint ${cold.paint.toFixed(0)} ms, log shown ${cold.shown.toFixed(0)} ms`);
  console.log(`figure: warm (median of 5) first paint ${median(warm.map((l) => l.paint)).toFixed(0)} ms, log shown ${median(warm.map((l) => l.shown)).toFixed(0)} ms`);
  // The bar is the first paint; the log's own figure is printed beside it (it also
  // holds two API round trips on a debug build, and moves with the machine's load).
  const paints = loads.map((l) => l.paint);
  check(median(paints) < 300, `the median first paint of six loads is under 300 ms: ${paints.map((p) => p.toFixed(0))}`);
  done(errors);
} finally {
  await close();
}
