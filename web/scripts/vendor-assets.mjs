#!/usr/bin/env node
// Copies the parts of the Czech Gov Design System that urad uses into
// crates/urad-web/assets/gov/ (served by the server under /assets/gov/).
//
//   cd web && npm ci && npm run vendor
//
// What it writes (everything in the target folder is regenerated; the folder is emptied first):
//   gov.css                 tokens + base styles + layout + content + the component CSS we use
//                           + @font-face rules for the fonts that CSS uses (urad's own styles are
//                           in crates/urad-web/assets/urad.css, loaded after this file)
//   fonts/*.woff2           only the Roboto faces (weights) that gov.css uses
//   icons/*.svg             the icons listed in ICONS below, under urad's own names
//   LICENSE-EUPL-1.2.txt    the licence of the three @gov-design-system-ce packages
//   NOTICE.md               what was taken from where, at which version, and how it was changed
//
// We use only the plain-HTML CSS (lib/html/...): no web components, no JavaScript. The
// component CSS styles both the custom elements (gov-button) and plain HTML (.gov-button);
// the custom-element selectors are dropped here because we never render custom elements,
// which halves the size. Nothing else in the rules is changed.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postcss from "postcss";
import spdx from "spdx-license-list/full.js";

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REPO = path.resolve(WEB, "..");
const OUT = path.join(REPO, "crates", "urad-web", "assets", "gov");
const NM = path.join(WEB, "node_modules", "@gov-design-system-ce");
const STYLES = path.join(NM, "styles", "lib", "html");
const FONTS = path.join(NM, "fonts", "lib");
const ICONS_DIR = path.join(NM, "icons", "lib");
const EXTRA_CSS = path.join(WEB, "styles", "urad.css");
const FONT_URL_PREFIX = "/assets/gov/fonts/";
const MAX_TOTAL_BYTES = 1.5 * 1024 * 1024;

// Base files, in cascade order.
const BASE = ["tokens.css", "styles.css", "layout.css", "content.css"];

// Component CSS (lib/html/components/gov-<name>.css) for a header, footer, search box,
// filters with selects and checkboxes, a result list, a detail page, a start page and
// error pages. gov-container and gov-layout(-column) are already in layout.css.
const COMPONENTS = [
  "icon",
  "link",
  "button",
  "breadcrumbs",
  "card",
  "tile",
  "chip",
  "tag",
  "message",
  "grid",
  "grid-item",
  "form-label",
  "form-message",
  "form-control",
  "form-group",
  "form-input",
  "form-select",
  "form-search",
  "form-checkbox",
  "form-radio",
  "pagination",
  "empty",
  "error-code",
];

// urad name -> file in @gov-design-system-ce/icons/lib (components/ = 16px Bootstrap-style
// glyphs, complex/ = 48px outline pictograms). All use fill="currentColor".
// `rotate` derives a missing glyph from an existing one.
const ICONS = {
  "search": { from: "components/search.svg" },
  "arrow-right": { from: "components/arrow-down.svg", rotate: -90 },
  "chevron-right": { from: "components/chevron-right.svg" },
  "chevron-left": { from: "components/chevron-left.svg" },
  "chevron-down": { from: "components/chevron-down.svg" },
  "globe": { from: "complex/globe.svg" },
  "info": { from: "components/info-circle.svg" },
  "external-link": { from: "components/box-arrow-up-right.svg" },
  "person": { from: "components/person-fill.svg" },
  "building": { from: "complex/institution.svg" },
  "briefcase": { from: "components/briefcase.svg" },
  "municipality": { from: "complex/cities.svg" },
  "phone": { from: "components/telephone.svg" },
  "mail": { from: "components/envelope-fill.svg" },
  "clock": { from: "complex/time.svg" },
  "map-pin": { from: "components/geo-alt-fill.svg" },
  "document": { from: "complex/doc-universal.svg" },
  "check": { from: "components/check-lg.svg" },
  "warning": { from: "components/exclamation-triangle-fill.svg" },
  "error-404": { from: "complex/card-404.svg" },
};

function read(file) {
  if (!fs.existsSync(file)) {
    throw new Error(`missing ${path.relative(REPO, file)}: run \`npm ci\` in web/ first`);
  }
  return fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "");
}

function pkgVersion(name) {
  return JSON.parse(read(path.join(NM, name, "package.json"))).version;
}

// Drop selectors that target the custom elements (`gov-button`, `gov-form-input input`);
// keep the class-based ones (`.gov-button`). A rule left without selectors is removed,
// and so is an at-rule left empty.
function stripCustomElementSelectors(root) {
  root.walkRules((rule) => {
    if (rule.parent?.type === "atrule" && /keyframes$/i.test(rule.parent.name)) return;
    const kept = rule.selectors.filter((s) => !/^gov-[a-z]/.test(s.trim()));
    if (kept.length === 0) rule.remove();
    else if (kept.length !== rule.selectors.length) rule.selectors = kept;
  });
  let removed;
  do {
    removed = 0;
    root.walkAtRules((at) => {
      if (at.nodes && at.nodes.length === 0) {
        at.remove();
        removed++;
      }
    });
  } while (removed);
}

function checkNoRemoteImports(root, where) {
  root.walkAtRules("import", (at) => {
    throw new Error(`${where}: @import is not allowed in gov.css (${at.params})`);
  });
  root.walkDecls((decl) => {
    for (const m of decl.value.matchAll(/url\(\s*(['"]?)([^'")]+)\1\s*\)/g)) {
      const url = m[2];
      if (/^(https?:)?\/\//i.test(url)) {
        throw new Error(`${where}: remote url() in ${decl.prop}: ${url}`);
      }
    }
  });
}

// Which (weight, style) pairs does the CSS ask for? Weights 400 (body), 500 (headings)
// and 700 (buttons, bold) are what the design system uses.
function usedFaces(root) {
  const weights = new Set(["400"]);
  let italic = false;
  root.walkDecls((decl) => {
    if (decl.prop === "font-weight") {
      const v = decl.value.trim().toLowerCase();
      if (v === "bold" || v === "bolder") weights.add("700");
      else if (v === "normal") weights.add("400");
      else if (/^\d00$/.test(v)) weights.add(v);
    }
    if (decl.prop === "font-style" && /italic|oblique/.test(decl.value)) italic = true;
    if (decl.prop === "font" && /\b(bold|[1-9]00)\b/.test(decl.value)) {
      const m = decl.value.match(/\b(bold|[1-9]00)\b/);
      weights.add(m[1] === "bold" ? "700" : m[1]);
    }
  });
  return { weights, italic };
}

// Take the @font-face rules of the fonts package for the faces we use, point their
// url()s at /assets/gov/fonts/, and drop local() sources so every visitor gets the same
// (complete, Czech-capable) font files.
function fontFaces(faces) {
  const root = postcss.parse(read(path.join(FONTS, "roboto.css")), { from: "roboto.css" });
  const files = new Set();
  root.walkAtRules("font-face", (at) => {
    let weight = "400";
    let style = "normal";
    at.walkDecls("font-weight", (d) => (weight = d.value.trim()));
    at.walkDecls("font-style", (d) => (style = d.value.trim()));
    const wanted = faces.weights.has(weight) && (style === "normal" || faces.italic);
    if (!wanted) {
      at.remove();
      return;
    }
    at.walkDecls("font-display", (d) => (d.value = "swap"));
    at.walkDecls("src", (d) => {
      const srcs = postcss.list.comma(d.value).filter((s) => !/^local\(/.test(s.trim()));
      d.value = srcs
        .map((s) =>
          s.replace(/url\(\s*(['"]?)([^'")]+)\1\s*\)/, (_, _q, file) => {
            const base = path.basename(file);
            if (!base.endsWith(".woff2")) throw new Error(`not a woff2 font: ${file}`);
            files.add(base);
            return `url("${FONT_URL_PREFIX}${base}")`;
          }),
        )
        .join(", ");
    });
  });
  root.walkComments((c) => c.remove());
  return { css: root.toString().replace(/\n{2,}/g, "\n").trim(), files: [...files].sort() };
}

function rotateSvg(svg, degrees) {
  const m = svg.match(/<svg\b[^>]*>/);
  const vb = m[0].match(/viewBox="([\d.\s-]+)"/)[1].split(/\s+/).map(Number);
  const cx = vb[0] + vb[2] / 2;
  const cy = vb[1] + vb[3] / 2;
  const start = m.index + m[0].length;
  const end = svg.lastIndexOf("</svg>");
  return (
    svg.slice(0, start) +
    `\n<g transform="rotate(${degrees} ${cx} ${cy})">` +
    svg.slice(start, end) +
    "</g>\n" +
    svg.slice(end)
  );
}

function main() {
  const versions = {
    styles: pkgVersion("styles"),
    fonts: pkgVersion("fonts"),
    icons: pkgVersion("icons"),
  };

  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(path.join(OUT, "fonts"), { recursive: true });
  fs.mkdirSync(path.join(OUT, "icons"), { recursive: true });

  // 1. CSS
  const layoutCss = read(path.join(STYLES, "layout.css"));
  const parts = [];
  for (const f of BASE) parts.push({ name: `lib/html/${f}`, css: read(path.join(STYLES, f)) });
  const skipped = [];
  for (const c of COMPONENTS) {
    const css = read(path.join(STYLES, "components", `gov-${c}.css`));
    if (layoutCss.includes(css.trim())) {
      skipped.push(c);
      continue;
    }
    parts.push({ name: `lib/html/components/gov-${c}.css`, css });
  }
  const extras = fs.existsSync(EXTRA_CSS) ? read(EXTRA_CSS) : "";

  const roots = parts.map((p) => {
    const root = postcss.parse(p.css, { from: p.name });
    stripCustomElementSelectors(root);
    checkNoRemoteImports(root, p.name);
    return { name: p.name, root };
  });
  const extrasRoot = postcss.parse(extras, { from: "web/styles/urad.css" });
  checkNoRemoteImports(extrasRoot, "web/styles/urad.css");

  const faces = { weights: new Set(), italic: false };
  for (const r of [...roots.map((r) => r.root), extrasRoot]) {
    const f = usedFaces(r);
    f.weights.forEach((w) => faces.weights.add(w));
    faces.italic ||= f.italic;
  }
  const fonts = fontFaces(faces);

  const header =
    `/*! Czech Gov Design System CE — plain-HTML CSS, vendored for urad.\n` +
    ` * @gov-design-system-ce/styles ${versions.styles}, @gov-design-system-ce/fonts ${versions.fonts}\n` +
    ` * Copyright (c) 2020-2025 Digitální a informační agentura. Licensed under EUPL-1.2\n` +
    ` * (see LICENSE-EUPL-1.2.txt and NOTICE.md beside this file).\n` +
    ` * Generated by web/scripts/vendor-assets.mjs — do not edit; urad's own styles: /assets/urad.css. */\n`;
  let out = header;
  out += `/* fonts: Roboto ${[...faces.weights].sort().join(", ")}${faces.italic ? " + italic" : ""} */\n${fonts.css}\n`;
  for (const r of roots) out += `/* ${r.name} */\n${r.root.toString().trim()}\n`;
  if (extras) out += `/* web/styles/urad.css — urad's own additions (skip link, header, footer …) */\n${extrasRoot.toString().trim()}\n`;

  // Final safety checks on the whole file.
  const finalRoot = postcss.parse(out, { from: "gov.css" });
  checkNoRemoteImports(finalRoot, "gov.css");
  fs.writeFileSync(path.join(OUT, "gov.css"), out);

  // 2. Fonts
  for (const f of fonts.files) fs.copyFileSync(path.join(FONTS, f), path.join(OUT, "fonts", f));

  // 3. Icons
  const iconRows = [];
  for (const [name, spec] of Object.entries(ICONS)) {
    let svg = read(path.join(ICONS_DIR, spec.from));
    if (spec.rotate) svg = rotateSvg(svg, spec.rotate);
    fs.writeFileSync(path.join(OUT, "icons", `${name}.svg`), svg);
    iconRows.push(`| \`icons/${name}.svg\` | \`lib/${spec.from}\`${spec.rotate ? ` rotated ${spec.rotate}°` : ""} |`);
  }

  // 4. Licence and notice. The npm packages ship no LICENSE file; their package.json says
  //    "EUPL v1.2 Licensed", so we include the official EUPL-1.2 text.
  const eupl = spdx["EUPL-1.2"];
  fs.writeFileSync(path.join(OUT, "LICENSE-EUPL-1.2.txt"), eupl.licenseText.trim() + "\n");
  const notice = `# Vendored third-party assets

Generated by \`web/scripts/vendor-assets.mjs\` (\`cd web && npm ci && npm run vendor\`); do not edit by hand.

| package | version | licence |
| --- | --- | --- |
| @gov-design-system-ce/styles | ${versions.styles} | EUPL-1.2 |
| @gov-design-system-ce/fonts | ${versions.fonts} | EUPL-1.2 (Roboto typeface by Christian Robertson / Google, Apache-2.0) |
| @gov-design-system-ce/icons | ${versions.icons} | EUPL-1.2 |

Copyright (c) 2020 - 2025 Digitální a informační agentura (Czech Gov Design System CE).
The packages declare "EUPL v1.2 Licensed" in package.json and ship no licence file; the
licence text is in \`LICENSE-EUPL-1.2.txt\`.

## Changes made when vendoring
- \`gov.css\` concatenates, in this order: ${BASE.map((b) => `\`lib/html/${b}\``).join(", ")} and
  the component files ${COMPONENTS.filter((c) => !skipped.includes(c)).map((c) => `\`gov-${c}\``).join(", ")}
  from \`@gov-design-system-ce/styles/lib/html/\`${skipped.length ? ` (${skipped.map((c) => `gov-${c}`).join(", ")} are already in layout.css)` : ""}.
  Selectors that target the design system's custom elements (\`gov-button\`, …) are removed; the
  class-based selectors (\`.gov-button\`, …) and all declarations are unchanged.
- The \`@font-face\` rules come from \`@gov-design-system-ce/fonts/lib/roboto.css\`, only for the
  weights the CSS uses (${[...faces.weights].sort().join(", ")}${faces.italic ? ", with italics" : ", upright only"}); \`local()\` sources are removed,
  \`font-display\` is \`swap\`, and the url()s point to \`${FONT_URL_PREFIX}\`.
- urad's own additions from \`web/styles/urad.css\` are appended at the end of \`gov.css\`.
- Icons are copied under urad's names:

| file here | source in @gov-design-system-ce/icons |
| --- | --- |
${iconRows.join("\n")}
`;
  fs.writeFileSync(path.join(OUT, "NOTICE.md"), notice);

  // 5. Report
  let total = 0;
  const rows = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const size = fs.statSync(p).size;
        total += size;
        rows.push([path.relative(OUT, p), size]);
      }
    }
  };
  walk(OUT);
  const big = rows.filter(([, s]) => s > 8 * 1024).map(([f, s]) => `  ${f} ${(s / 1024).toFixed(1)} KiB`);
  console.log(`vendored into ${path.relative(REPO, OUT)}/: ${rows.length} files, ${(total / 1024).toFixed(1)} KiB`);
  if (big.length) console.log(big.join("\n"));
  if (total > MAX_TOTAL_BYTES) {
    throw new Error(`assets/gov is ${(total / 1024).toFixed(0)} KiB, over the ${MAX_TOTAL_BYTES / 1024} KiB budget`);
  }
}

try {
  main();
} catch (err) {
  console.error(`vendor-assets: ${err.message}`);
  process.exit(1);
}
