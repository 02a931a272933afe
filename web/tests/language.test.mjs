// (4) Language switch and the common page frame (lang, skip link, landmarks) on every page type.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  launchBrowser,
  newPage,
  closePage,
  gotoPage,
  getJson,
  otherLanguagePath,
  SKIP_LINK_TEXT,
} from "./helpers.mjs";

const PAGES = [
  { path: "/", lang: "cs" },
  { path: "/en", lang: "en" },
  { path: "/sluzby", lang: "cs" },
  { path: "/en/services", lang: "en" },
  { path: "/sluzby?q=dotace&applicant=citizen", lang: "cs" },
  { path: "/en/services?q=grant&channel=online", lang: "en" },
  { path: "/sluzby/kotlikova-dotace", lang: "cs" },
  { path: "/en/services/czech-point", lang: "en" },
  { path: "/sluzby/kotlikova-dotace/podani", lang: "cs" },
  { path: "/en/services/kotlikova-dotace/apply", lang: "en" },
  { path: "/sluzby?applicant=alien", lang: "cs", status: 400 },
  { path: "/neznama-stranka", lang: "cs", status: 404, noSwitchCheck: true },
  { path: "/en/unknown-page", lang: "en", status: 404, noSwitchCheck: true },
];

describe("page frame and language switch", () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  for (const p of PAGES) {
    test(`frame of ${p.path}`, async () => {
      const page = await newPage(browser);
      try {
        await gotoPage(page, p.path, p.status ?? 200);
        assert.equal(await page.locator("html").getAttribute("lang"), p.lang, "<html lang>");

        // The first focusable element is the skip link.
        await page.keyboard.press("Tab");
        const first = await page.evaluate(() => {
          const a = document.activeElement;
          return { tag: a.tagName.toLowerCase(), cls: a.className, href: a.getAttribute("href"), text: a.textContent.trim() };
        });
        assert.equal(first.tag, "a", "the first Tab stop is a link");
        assert.ok(String(first.cls).split(/\s+/).includes("skip-link"), `the first Tab stop is a.skip-link, got .${first.cls}`);
        assert.equal(first.href, "#main");
        assert.equal(first.text, SKIP_LINK_TEXT[p.lang]);

        // Landmarks.
        assert.ok((await page.locator("header").count()) >= 1, "a <header>");
        assert.ok((await page.locator("nav").count()) >= 1, "a <nav>");
        assert.equal(await page.locator("main").count(), 1, "exactly one <main>");
        assert.equal(await page.locator("main").getAttribute("id"), "main", "<main id=main>");
        assert.ok((await page.locator("footer").count()) >= 1, "a <footer>");
        assert.equal(await page.locator("h1").count(), 1, "exactly one <h1>");

        // Language switch to the same page in the other language, with the same query.
        const sw = page.locator("a#lang-switch");
        assert.equal(await sw.count(), 1, "a#lang-switch");
        const other = p.lang === "cs" ? "en" : "cs";
        assert.equal(await sw.getAttribute("hreflang"), other, "hreflang names the other language");
        if (!p.noSwitchCheck) {
          const here = new URL(page.url());
          const target = new URL(await sw.getAttribute("href"), page.url());
          assert.equal(target.pathname, otherLanguagePath(here.pathname), "same page in the other language");
          assert.deepEqual(
            [...target.searchParams.entries()].sort(),
            [...here.searchParams.entries()].sort(),
            "same query string",
          );
        }
      } finally {
        await closePage(page);
      }
    });
  }

  test("switching on the detail page keeps the service, and switching back returns", async () => {
    const page = await newPage(browser);
    try {
      const api = (await getJson("/api/v1/services/kotlikova-dotace")).body;
      await gotoPage(page, "/sluzby/kotlikova-dotace");
      assert.equal((await page.locator("main h1").innerText()).trim(), api.name.cs);

      await Promise.all([page.waitForURL("**/en/services/kotlikova-dotace"), page.click("a#lang-switch")]);
      assert.equal(new URL(page.url()).pathname, "/en/services/kotlikova-dotace");
      assert.equal(await page.locator("html").getAttribute("lang"), "en");
      assert.equal((await page.locator("main h1").innerText()).trim(), api.name.en);
      assert.equal(api.name.en, "Boiler replacement grant");
      assert.equal(await page.locator("a#lang-switch").getAttribute("hreflang"), "cs");

      await Promise.all([page.waitForURL("**/sluzby/kotlikova-dotace"), page.click("a#lang-switch")]);
      assert.equal(new URL(page.url()).pathname, "/sluzby/kotlikova-dotace");
      assert.equal(await page.locator("html").getAttribute("lang"), "cs");
      assert.equal((await page.locator("main h1").innerText()).trim(), "Kotlíková dotace");
    } finally {
      await closePage(page);
    }
  });

  test("switching on a filtered catalogue keeps the filters and the selections", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/sluzby?q=dotace&applicant=citizen&channel=online");
      await Promise.all([page.waitForURL("**/en/services?**"), page.click("a#lang-switch")]);
      const u = new URL(page.url());
      assert.equal(u.pathname, "/en/services");
      assert.equal(u.searchParams.get("q"), "dotace");
      assert.equal(await page.locator("input#q").inputValue(), "dotace");
      assert.equal(await page.locator("select#applicant").inputValue(), "citizen");
      assert.equal(await page.locator("select#channel").inputValue(), "online");
    } finally {
      await closePage(page);
    }
  });
});
