// theme.js: the provider's theme, from the portal URL's query as Svix's portal takes it:
// `primaryColor` (hex, with or without #), `darkMode=true`, `fontFamily` (a font installed on
// the reader's machine: nothing is loaded from elsewhere), and hookd's `noNav=true`, which
// hides the navigation for a host page that brings its own. Values are checked, then set
// through the CSSOM (no inline style, which the CSP forbids).

const HEX = /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const FONT = /^[A-Za-z0-9 ,'"-]{1,100}$/;

export function applyTheme(params = new URLSearchParams(location.search)) {
  const root = document.documentElement;
  const color = params.get("primaryColor");
  if (color && HEX.test(color)) {
    const hex = color.startsWith("#") ? color : `#${color}`;
    root.style.setProperty("--primary", hex);
    root.style.setProperty("--on-primary", readableOn(hex));
  }
  const dark = params.get("darkMode");
  if (dark === "true" || (dark === null && matchMedia("(prefers-color-scheme: dark)").matches)) {
    root.classList.add("dark");
  }
  const font = params.get("fontFamily");
  if (font && FONT.test(font)) root.style.setProperty("--font", `${font}, system-ui, sans-serif`);
  if (params.get("noNav") === "true") document.getElementById("layout")?.classList.add("no-nav");
}

/** Black or white, whichever reads better on `hex`. */
function readableOn(hex) {
  let digits = hex.slice(1);
  if (digits.length === 3) digits = [...digits].map((d) => d + d).join("");
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(digits.slice(i, i + 2), 16));
  return 0.299 * r + 0.587 * g + 0.114 * b > 160 ? "#000" : "#fff";
}
