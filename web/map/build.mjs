// Builds the map's single-file bundle and the licence notices of every npm
// package it contains, into the Python package's static folder:
//   src/whuffie/report/static/map.bundle.js
//   src/whuffie/report/static/map.bundle.LICENSES.txt
// Run with `npm run build` (after `npm ci`).

import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(here, "../../src/whuffie/report/static");
const outfile = join(outdir, "map.bundle.js");

const result = await build({
  entryPoints: [join(here, "src/main.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  platform: "browser",
  // Licence comments go to the notices file, not into the inlined page.
  legalComments: "none",
  metafile: true,
  outfile,
  logLevel: "info",
});

// The packages that actually ended up in the bundle, from esbuild's inputs.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (!match) continue;
  const dir = input.slice(0, input.indexOf(match[0]) + match[0].length);
  packages.set(match[1], resolve(here, dir));
}

const sections = [
  "Third-party software bundled in map.bundle.js (built by web/map/build.mjs with esbuild).",
  "Each package's licence text follows.",
  "",
];
for (const name of [...packages.keys()].sort()) {
  const dir = packages.get(name);
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const licenceFile = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  sections.push("=".repeat(78));
  sections.push(`${meta.name} ${meta.version} — ${meta.license}`);
  if (meta.homepage) sections.push(meta.homepage);
  sections.push("=".repeat(78));
  sections.push(licenceFile ? readFileSync(join(dir, licenceFile), "utf8").trim() : `License: ${meta.license}`);
  sections.push("");
}
writeFileSync(join(outdir, "map.bundle.LICENSES.txt"), `${sections.join("\n")}\n`);

const bundle = readFileSync(outfile, "utf8");
if (/<\/script|<!--/i.test(bundle)) {
  throw new Error("the bundle contains '</script' or '<!--' and could not be inlined in a page");
}
console.log(`bundled packages: ${[...packages.keys()].sort().join(", ")}`);
