// (1) Full-text search from the home page: no diacritics and typos still find the service.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, newPage, closePage, gotoPage, fold, resultLinks, slugFromHref } from "./helpers.mjs";

describe("search", () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  /** Types `query` into the home page search box, submits it and returns the page. */
  async function searchFromHome(query, home = "/") {
    const page = await newPage(browser);
    await gotoPage(page, home);
    const form = page.locator("form#site-search");
    assert.equal(await form.getAttribute("role"), "search", "form#site-search has role=search");
    assert.equal((await form.getAttribute("method") ?? "get").toLowerCase(), "get", "the search form uses GET");
    const input = page.locator("input#site-search-q");
    assert.equal(await input.getAttribute("name"), "q");
    await input.fill(query);
    await Promise.all([page.waitForURL((u) => u.searchParams.has("q")), input.press("Enter")]);
    return page;
  }

  test("'kotlikova dotace' without diacritics finds Kotlíková dotace first, highlighted", async () => {
    const page = await searchFromHome("kotlikova dotace");
    try {
      const u = new URL(page.url());
      assert.equal(u.pathname, "/sluzby", "the home search submits to the catalogue");
      assert.equal(u.searchParams.get("q"), "kotlikova dotace");
      assert.equal(await page.locator("input#q").inputValue(), "kotlikova dotace", "the catalogue keeps the query in its search box");

      const first = page.locator("ol#results > li.result").first();
      await first.waitFor();
      assert.equal((await first.locator("h2 a").innerText()).trim(), "Kotlíková dotace");
      assert.equal(slugFromHref(await first.locator("h2 a").getAttribute("href")), "kotlikova-dotace");
      const marks = (await first.locator("mark").allInnerTexts()).map(fold);
      assert.ok(marks.length > 0, "the first result highlights the match with <mark>");
      assert.ok(
        marks.some((m) => m.startsWith("kotlik") || m.startsWith("dotac")),
        `a <mark> covers a searched word, got ${JSON.stringify(marks)}`,
      );
      const titleMarks = (await first.locator("h2 mark").allInnerTexts()).map(fold);
      assert.ok(titleMarks.length > 0, "the matching name is highlighted in the title");
      for (const m of titleMarks) {
        assert.ok(/kotlik|dotac/.test(m), `every <mark> in the title is a match of the query, got "${m}"`);
      }
      assert.ok((await first.locator(".result-summary").innerText()).trim().length > 0, "the result has a summary");
    } finally {
      await closePage(page);
    }
  });

  test("a typo 'kotlikva' still finds Kotlíková dotace first", async () => {
    const page = await searchFromHome("kotlikva");
    try {
      const links = await resultLinks(page);
      assert.ok(links.length > 0, "the typo has results");
      assert.equal(slugFromHref(links[0]), "kotlikova-dotace");
    } finally {
      await closePage(page);
    }
  });

  test("a search for nonsense shows #no-results and no result list", async () => {
    const page = await searchFromHome("qxzvwkj");
    try {
      await page.locator("#no-results").waitFor();
      assert.equal(await page.locator("ol#results > li.result").count(), 0);
      assert.match(await page.locator("#result-count").innerText(), /\b0\b/);
    } finally {
      await closePage(page);
    }
  });

  test("English home search goes to /en/services and finds the boiler grant", async () => {
    const page = await searchFromHome("boiler", "/en");
    try {
      assert.equal(new URL(page.url()).pathname, "/en/services");
      const first = page.locator("ol#results > li.result").first();
      await first.waitFor();
      const titles = await page.locator("ol#results > li.result h2 a").allInnerTexts();
      assert.ok(
        titles.map((t) => t.trim()).includes("Boiler replacement grant"),
        `English results list the grant by its English name, got ${JSON.stringify(titles)}`,
      );
    } finally {
      await closePage(page);
    }
  });
});
