// Shared helpers for urad's browser tests (node --test, playwright-core, axe-core).
//
//   URAD_BASE_URL=http://127.0.0.1:18080 npm test        (in web/)
//
// The browser is Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH); no browser is
// ever downloaded. Playwright's launch() gives every browser a fresh temporary profile
// (its own --user-data-dir), so no state leaks between test files.

import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";

export const BASE_URL = (process.env.URAD_BASE_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

export const SKIP_LINK_TEXT = { cs: "Přejít na obsah", en: "Skip to main content" };
export const NOT_FOUND_TITLE = { cs: "Stránka nenalezena", en: "Page not found" };

/** Absolute URL of a path on the server under test. */
export function url(path = "/") {
  return BASE_URL + (path.startsWith("/") ? path : `/${path}`);
}

let serverChecked = null;
/** Fails fast, with a clear message, when the server under test does not answer. */
export async function requireServer() {
  serverChecked ??= (async () => {
    try {
      const res = await fetch(url("/"), { redirect: "manual", signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
    } catch (err) {
      throw new Error(
        `urad does not answer at ${BASE_URL} (${err.cause?.code || err.message}). ` +
          `Start it (e.g. \`cargo run -p urad -- serve\`) and set URAD_BASE_URL.`,
      );
    }
  })();
  return serverChecked;
}

/** Launches headless Debian Chromium. One browser per test file; close it in after(). */
export async function launchBrowser() {
  await requireServer();
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A new page in a fresh context (own cookies, storage, JS setting).
 * options: { javaScriptEnabled = true, viewport, locale }
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({
    baseURL: BASE_URL,
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    locale: options.locale ?? "cs-CZ",
    colorScheme: "light",
    reducedMotion: "reduce",
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  const page = await context.newPage();
  return page;
}

/** Closes a page together with its context. */
export async function closePage(page) {
  await page?.context().close();
}

/** Navigates and asserts the HTTP status of the document. Returns the response. */
export async function gotoPage(page, path, expectedStatus = 200) {
  const res = await page.goto(path);
  assert.ok(res, `no response for ${path}`);
  assert.equal(res.status(), expectedStatus, `GET ${path}: expected HTTP ${expectedStatus}, got ${res.status()}`);
  return res;
}

/**
 * Runs axe-core (WCAG 2.0/2.1 A and AA) on the current page and fails the test listing every
 * violation with its id, impact, help text, help URL and the CSS targets of the nodes.
 */
export async function checkA11y(page, label = page.url()) {
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  if (results.violations.length === 0) return results;
  const lines = results.violations.map((v) => {
    const targets = v.nodes
      .slice(0, 10)
      .map((n) => `      - ${n.target.join(" ")}${n.failureSummary ? `: ${n.failureSummary.split("\n").slice(1).join(" ").trim()}` : ""}`)
      .join("\n");
    const more = v.nodes.length > 10 ? `\n      … and ${v.nodes.length - 10} more` : "";
    return `  ${v.id} [${v.impact}] ${v.help} (${v.helpUrl})\n${targets}${more}`;
  });
  assert.fail(`axe found ${results.violations.length} violation(s) on ${label}:\n${lines.join("\n")}`);
}

/** GET a JSON endpoint; returns { status, contentType, body }. */
export async function getJson(path) {
  const res = await fetch(url(path), { headers: { accept: "application/json" } });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, contentType: res.headers.get("content-type") || "", body, text };
}

/** Lower-case text without diacritics ("Kotlíková" -> "kotlikova"). */
export function fold(text) {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().trim();
}

/** Czech path <-> English path of the same page, as the language switch must link. */
export function otherLanguagePath(pathname) {
  const p = pathname.replace(/\/+$/, "") || "/";
  if (p === "/") return "/en";
  if (p === "/en") return "/";
  let m;
  if ((m = p.match(/^\/en\/services(\/[^/]+)?(\/apply)?$/))) {
    return `/sluzby${m[1] ?? ""}${m[2] ? "/podani" : ""}`;
  }
  if ((m = p.match(/^\/sluzby(\/[^/]+)?(\/podani)?$/))) {
    return `/en/services${m[1] ?? ""}${m[2] ? "/apply" : ""}`;
  }
  throw new Error(`no known other-language path for ${pathname}`);
}

/** Slug of a service detail link (/sluzby/<slug> or /en/services/<slug>). */
export function slugFromHref(href) {
  const m = new URL(href, BASE_URL).pathname.match(/^\/(?:sluzby|en\/services)\/([^/]+)\/?$/);
  assert.ok(m, `not a service detail link: ${href}`);
  return decodeURIComponent(m[1]);
}

/** The hrefs of the result titles on a catalogue page, in order. */
export async function resultLinks(page) {
  return page.locator("ol#results > li.result h2 a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
}

/** The number in #result-count (the first integer in its text). */
export async function resultCount(page) {
  const text = await page.locator("#result-count").innerText();
  const m = text.replace(/\u00a0/g, " ").match(/\d[\d ]*/);
  assert.ok(m, `#result-count has no number: "${text}"`);
  return Number(m[0].replace(/ /g, ""));
}

/**
 * Describes the element that has keyboard focus and whether something draws a visible focus
 * indicator for it: a non-transparent outline of at least 1px on the element or on one of its
 * three nearest ancestors (form components draw the ring on a wrapper, via :focus-within),
 * or a box-shadow on the element itself. Needs JavaScript enabled in the page.
 */
export async function focusState(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const describe = (n) =>
      n
        ? `${n.tagName.toLowerCase()}${n.id ? `#${n.id}` : ""}${n.classList.length ? `.${[...n.classList].join(".")}` : ""}` +
          (n.textContent ? ` "${n.textContent.trim().replace(/\s+/g, " ").slice(0, 40)}"` : "")
        : "null";
    const transparent = (c) => c === "transparent" || /rgba\([^)]*,\s*0\)$/.test(c);
    let indicator = null;
    let n = el;
    for (let depth = 0; n && n !== document.body && depth < 4; depth++, n = n.parentElement) {
      const cs = getComputedStyle(n);
      const width = parseFloat(cs.outlineWidth) || 0;
      if (cs.outlineStyle !== "none" && width >= 1 && !transparent(cs.outlineColor)) {
        indicator = { kind: "outline", on: describe(n), width, color: cs.outlineColor };
        break;
      }
      if (depth === 0 && cs.boxShadow && cs.boxShadow !== "none") {
        indicator = { kind: "box-shadow", on: describe(n), value: cs.boxShadow };
        break;
      }
    }
    const r = el?.getBoundingClientRect();
    return {
      id: el?.id || "",
      tag: el?.tagName.toLowerCase() || "",
      className: el?.className && typeof el.className === "string" ? el.className : "",
      href: el?.getAttribute?.("href") ?? null,
      description: describe(el),
      isBody: el === document.body || el === null,
      inMain: !!el?.closest?.("main#main"),
      rect: r ? { x: r.x, y: r.y, width: r.width, height: r.height } : null,
      viewport: { width: window.innerWidth, height: window.innerHeight },
      indicator,
    };
  });
}

/** Focuses `selector` (which must show a focus indicator) and presses Enter, waiting for the page it leads to. */
export async function enterOn(page, selector, urlPattern) {
  await page.locator(selector).focus();
  const s = await focusState(page);
  assert.ok(s.indicator, `a visible focus indicator on ${s.description}`);
  await Promise.all([page.waitForURL(urlPattern), page.keyboard.press("Enter")]);
}

/** Focuses a text field and types into it, after clearing what it holds. */
export async function typeInto(page, selector, text) {
  await page.locator(selector).focus();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.type(text);
}

/** Presses Tab until `predicate(state)` holds; returns the list of focus states passed. */
export async function tabUntil(page, predicate, maxTabs = 80) {
  const seen = [];
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press("Tab");
    const state = await focusState(page);
    seen.push(state);
    if (predicate(state)) return seen;
  }
  assert.fail(
    `target not reached after ${maxTabs} Tab presses; focus went through:\n` +
      seen.map((s) => `  ${s.description}`).join("\n"),
  );
}

/** Values that the catalogue accepts for `applicant` and `channel`. */
export const APPLICANT_TYPES = ["citizen", "sole_trader", "company", "municipality"];
export const CHANNELS = ["online", "in_person", "both"];

/** Does a service with this channel match the catalogue filter channel=<filter>? */
export function channelMatches(serviceChannel, filter) {
  return serviceChannel === filter || serviceChannel === "both";
}
