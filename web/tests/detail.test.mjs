// (3) Service detail pages: an online service offers the start button, an in-person one
//     explains where to go instead.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, newPage, closePage, gotoPage, getJson, NOT_FOUND_TITLE } from "./helpers.mjs";

describe("service detail", () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  test("open Kotlíková dotace from the results: facts, documents, legal basis, contact, start button", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/sluzby?q=kotlikova");
      const link = page.locator("ol#results > li.result h2 a").first();
      await Promise.all([page.waitForURL("**/sluzby/kotlikova-dotace"), link.click()]);

      const api = (await getJson("/api/v1/services/kotlikova-dotace")).body;
      assert.equal((await page.locator("main h1").innerText()).trim(), api.name.cs);
      assert.equal(api.name.cs, "Kotlíková dotace");
      assert.equal(await page.title().then((t) => t.includes("Kotlíková dotace")), true, "the <title> names the service");

      const facts = page.locator("dl#service-facts");
      assert.ok((await facts.locator("dt").count()) >= 1, "dl#service-facts has terms");
      assert.equal(await facts.locator("dt").count(), await facts.locator("dd").count(), "every fact has a value");

      const documents = await page.locator("#documents li").allInnerTexts();
      assert.ok(documents.length >= 1, "the required documents are listed");
      if (Array.isArray(api.documents)) assert.equal(documents.length, api.documents.length, "as many documents as the API lists");
      assert.ok(documents.some((d) => d.includes("Fotografie stávajícího kotle")), "documents are shown in Czech");

      const legal = await page.locator("#legal-basis li").allInnerTexts();
      assert.ok(legal.some((l) => l.includes("201/2012")), `the legal basis cites 201/2012 Sb., got ${JSON.stringify(legal)}`);
      assert.match(await page.locator("#contact").innerText(), /kotliky@msk\.cz/);

      const start = page.locator("a#start-service");
      assert.ok(await start.isVisible(), "an online service shows the start button");
      assert.equal(new URL(await start.getAttribute("href"), page.url()).pathname, "/sluzby/kotlikova-dotace/podani");
      assert.equal(await page.locator("section#in-person").count(), 0, "an online-only service has no in-person section");

      const [res] = await Promise.all([page.waitForNavigation(), start.click()]);
      assert.equal(res.status(), 200, "the start page answers 200");
      assert.equal(new URL(page.url()).pathname, "/sluzby/kotlikova-dotace/podani");
      assert.match(await page.locator("main#main").innerText(), /Kotlíková dotace/, "the start page names the service");
    } finally {
      await closePage(page);
    }
  });

  test("czech-point is in person only: #in-person with reason and place, no start button", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/sluzby/czech-point");
      const api = (await getJson("/api/v1/services/czech-point")).body;
      assert.equal(api.channel, "in_person");
      assert.equal((await page.locator("main h1").innerText()).trim(), api.name.cs);
      const inPerson = page.locator("section#in-person");
      assert.ok(await inPerson.isVisible(), "section#in-person is shown");
      const text = (await inPerson.innerText()).trim();
      assert.ok(text.length > 40, `the section explains the reason and the place, got: ${text}`);
      assert.equal(await page.locator("#start-service").count(), 0, "no start button for an in-person service");
    } finally {
      await closePage(page);
    }
  });

  test("every in-person demo service shows #in-person and no start button, in both languages", async () => {
    const page = await newPage(browser);
    try {
      for (const slug of ["overeni-podpisu", "statni-obcanstvi"]) {
        for (const base of ["/sluzby/", "/en/services/"]) {
          await gotoPage(page, base + slug);
          assert.ok(await page.locator("section#in-person").isVisible(), `${base}${slug}: #in-person`);
          assert.equal(await page.locator("#start-service").count(), 0, `${base}${slug}: no start button`);
        }
      }
    } finally {
      await closePage(page);
    }
  });

  test("the English detail page shows English texts", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/en/services/kotlikova-dotace");
      assert.equal((await page.locator("main h1").innerText()).trim(), "Boiler replacement grant");
      const documents = await page.locator("#documents li").allInnerTexts();
      assert.ok(documents.some((d) => d.includes("Photo of the existing solid-fuel boiler")), "documents in English");
      assert.equal(
        new URL(await page.locator("a#start-service").getAttribute("href"), page.url()).pathname,
        "/en/services/kotlikova-dotace/apply",
      );
    } finally {
      await closePage(page);
    }
  });

  test("an unknown service is a 404 page", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/sluzby/tato-sluzba-neexistuje", 404);
      assert.equal((await page.locator("h1").innerText()).trim(), NOT_FOUND_TITLE.cs);
      await gotoPage(page, "/en/services/no-such-service", 404);
      assert.equal((await page.locator("h1").innerText()).trim(), NOT_FOUND_TITLE.en);
      await gotoPage(page, "/tohle/neexistuje", 404);
      assert.equal((await page.locator("h1").innerText()).trim(), NOT_FOUND_TITLE.cs);
      assert.equal(await page.locator("html").getAttribute("lang"), "cs");
      await gotoPage(page, "/en/nothing-here", 404);
      assert.equal((await page.locator("h1").innerText()).trim(), NOT_FOUND_TITLE.en);
      assert.equal(await page.locator("html").getAttribute("lang"), "en");
    } finally {
      await closePage(page);
    }
  });
});
