// (8) Everything works without JavaScript: search, filters, language switch, detail.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, newPage, closePage, gotoPage, getJson, resultCount, resultLinks, slugFromHref } from "./helpers.mjs";

describe("without JavaScript", () => {
  let browser;
  let page;
  before(async () => {
    browser = await launchBrowser();
    page = await newPage(browser, { javaScriptEnabled: false });
  });
  after(async () => {
    await closePage(page);
    await browser?.close();
  });

  test("scripts really are off in this context", async () => {
    await gotoPage(page, "/");
    // The inline script would change the title if scripts ran.
    await page.setContent(`<title>off</title><script>document.title = "on"</script>`);
    assert.equal(await page.title(), "off");
  });

  test("search from the home page", async () => {
    await gotoPage(page, "/");
    await page.fill("input#site-search-q", "kotlikova dotace");
    await Promise.all([page.waitForURL((u) => u.searchParams.has("q")), page.press("input#site-search-q", "Enter")]);
    assert.equal(new URL(page.url()).pathname, "/sluzby");
    const links = await resultLinks(page);
    assert.ok(links.length > 0);
    assert.equal(slugFromHref(links[0]), "kotlikova-dotace");
    assert.ok((await page.locator("ol#results > li.result").first().locator("mark").count()) > 0);
  });

  test("filter the catalogue with selects and the submit button", async () => {
    await gotoPage(page, "/sluzby");
    await page.selectOption("select#applicant", "citizen");
    await page.selectOption("select#channel", "in_person");
    await Promise.all([page.waitForURL((u) => u.searchParams.has("applicant")), page.click("#apply-filters")]);
    const u = new URL(page.url());
    assert.equal(u.searchParams.get("applicant"), "citizen");
    assert.equal(u.searchParams.get("channel"), "in_person");
    assert.equal(await page.locator("select#applicant").inputValue(), "citizen");
    const api = (await getJson("/api/v1/services?applicant=citizen&channel=in_person&per_page=100")).body;
    assert.equal(await resultCount(page), api.total);
    const slugs = (await resultLinks(page)).map(slugFromHref);
    assert.ok(slugs.includes("czech-point"), `czech-point is an in-person service for citizens, got ${slugs}`);
  });

  test("open a result, switch language, follow pagination", async () => {
    await gotoPage(page, "/sluzby?q=kotlikova");
    await Promise.all([page.waitForURL("**/sluzby/kotlikova-dotace"), page.locator("ol#results > li.result h2 a").first().click()]);
    assert.ok(await page.locator("a#start-service").isVisible());
    await Promise.all([page.waitForURL("**/en/services/kotlikova-dotace"), page.click("a#lang-switch")]);
    assert.equal(await page.locator("html").getAttribute("lang"), "en");

    await gotoPage(page, "/sluzby");
    const next = page.locator("nav#pagination a[rel=next]");
    if ((await next.count()) > 0) {
      await Promise.all([page.waitForURL(/page=2/), next.click()]);
      assert.ok((await page.locator("ol#results > li.result").count()) > 0, "page 2 has results");
    }
  });
});
