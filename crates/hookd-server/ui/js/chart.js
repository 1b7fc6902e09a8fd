// chart.js: attempts over time as stacked bars (succeeded below, failed above), drawn as SVG
// elements, each bar with a title for its figures; the whole chart has a text summary.

import { h } from "./dom.js";

const WIDTH = 600;
const HEIGHT = 150;
const AXIS = 16;

/** `buckets`: [{start, succeeded, failed}]; `label(start)` names a bucket on the axis. */
export function barChart(buckets, { title, label }) {
  const max = Math.max(1, ...buckets.map((b) => b.succeeded + b.failed));
  const total = buckets.reduce((sum, b) => sum + b.succeeded + b.failed, 0);
  const failed = buckets.reduce((sum, b) => sum + b.failed, 0);
  const step = WIDTH / Math.max(1, buckets.length);
  const barWidth = Math.max(1, step * 0.8);
  const plot = HEIGHT - AXIS;
  const summary = `${title}: ${total} attempts, ${total - failed} succeeded, ${failed} failed`;
  const svg = h("svg:svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-label": summary,
    preserveAspectRatio: "none",
  });
  buckets.forEach((bucket, i) => {
    const x = i * step + (step - barWidth) / 2;
    const okHeight = (bucket.succeeded / max) * plot;
    const badHeight = (bucket.failed / max) * plot;
    const group = h(
      "svg:g",
      {},
      h("svg:title", {}, `${label(bucket.start)}: ${bucket.succeeded} succeeded, ${bucket.failed} failed`),
      h("svg:rect", { class: "ok", x, y: plot - okHeight, width: barWidth, height: okHeight }),
      h("svg:rect", { class: "bad", x, y: plot - okHeight - badHeight, width: barWidth, height: badHeight }),
    );
    svg.append(group);
    const every = Math.ceil(buckets.length / 8);
    if (i % every === 0) {
      svg.append(h("svg:text", { class: "axis", x: i * step + 2, y: HEIGHT - 3 }, label(bucket.start)));
    }
  });
  return h(
    "figure",
    { class: "chart" },
    svg,
    h(
      "figcaption",
      { class: "legend" },
      h("span", { class: "ok" }, "■ "),
      "succeeded ",
      h("span", { class: "bad" }, "■ "),
      "failed · ",
      summary,
    ),
  );
}
