// (2) Catalogue filters combine, live in the URL, agree with the API, survive a reload;
//     pagination; an invalid filter value gives 400 with an error summary.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  launchBrowser,
  newPage,
  closePage,
  gotoPage,
  getJson,
  resultLinks,
  resultCount,
  slugFromHref,
  channelMatches,
} from "./helpers.mjs";

describe("catalogue filters", () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  test("every filter control has an 'any' option with an empty value", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/sluzby");
      const form = page.locator("form#catalog-filters");
      assert.equal((await form.getAttribute("method") ?? "get").toLowerCase(), "get");
      assert.equal(await page.locator("input#q").getAttribute("name"), "q");
      for (const id of ["applicant", "situation", "agenda", "channel"]) {
        const select = page.locator(`form#catalog-filters select#${id}`);
        assert.equal(await select.getAttribute("name"), id, `select#${id} is submitted as ${id}`);
        assert.equal(await select.inputValue(), "", `select#${id} starts at 'any'`);
        const values = await select.locator("option").evaluateAll((os) => os.map((o) => o.value));
        assert.ok(values.includes(""), `select#${id} has an empty 'any' option`);
        assert.ok(values.length >= 2, `select#${id} offers real choices`);
      }
      const applicantValues = await page.locator("select#applicant option").evaluateAll((os) => os.map((o) => o.value));
      for (const v of ["citizen", "sole_trader", "company", "municipality"]) {
        assert.ok(applicantValues.includes(v), `select#applicant offers ${v}`);
      }
      const channelValues = await page.locator("select#channel option").evaluateAll((os) => os.map((o) => o.value));
      for (const v of ["online", "in_person"]) assert.ok(channelValues.includes(v), `select#channel offers ${v}`);
      assert.equal(await page.locator("#apply-filters").count(), 1);
    } finally {
      await closePage(page);
    }
  });

  test("applicant=company + channel=online: both in the URL, results agree with the API, reload keeps them", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/sluzby");
      const unfiltered = await resultCount(page);
      await page.selectOption("select#applicant", "company");
      await page.selectOption("select#channel", "online");
      await Promise.all([page.waitForURL((u) => u.searchParams.has("applicant")), page.click("#apply-filters")]);

      const u = new URL(page.url());
      assert.equal(u.pathname, "/sluzby");
      assert.equal(u.searchParams.get("applicant"), "company");
      assert.equal(u.searchParams.get("channel"), "online");
      for (const k of ["situation", "agenda", "q"]) {
        assert.ok(!u.searchParams.get(k), `${k} stays empty when not chosen`);
      }

      const count = await resultCount(page);
      assert.ok(count <= unfiltered, `filtering cannot add results (${count} > ${unfiltered})`);
      const api = await getJson("/api/v1/services?applicant=company&channel=online&per_page=100");
      assert.equal(api.status, 200);
      assert.equal(count, api.body.total, "#result-count equals the API's total for the same filters");

      const links = await resultLinks(page);
      if (count === 0) {
        await page.locator("#no-results").waitFor();
      } else {
        assert.ok(links.length > 0 && links.length <= count);
        const apiSlugs = api.body.items.map((i) => i.slug);
        for (const href of links) {
          const slug = slugFromHref(href);
          assert.ok(apiSlugs.includes(slug), `${slug} is also in the API's filtered list`);
          const detail = await getJson(`/api/v1/services/${encodeURIComponent(slug)}`);
          assert.equal(detail.status, 200, `API detail of ${slug}`);
          assert.ok(detail.body.applicant_types.includes("company"), `${slug} is for companies`);
          assert.ok(channelMatches(detail.body.channel, "online"), `${slug} can be used online (channel=${detail.body.channel})`);
        }
      }

      await page.reload();
      assert.equal(await page.locator("select#applicant").inputValue(), "company", "reload keeps applicant");
      assert.equal(await page.locator("select#channel").inputValue(), "online", "reload keeps channel");
      assert.equal(await resultCount(page), count, "reload shows the same results");
    } finally {
      await closePage(page);
    }
  });

  test("filters narrow each other: applicant=citizen ∩ channel=in_person ⊆ each alone", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/sluzby?applicant=citizen");
      const citizen = await resultCount(page);
      await gotoPage(page, "/sluzby?channel=in_person");
      const inPerson = await resultCount(page);
      await gotoPage(page, "/sluzby?applicant=citizen&channel=in_person");
      const both = await resultCount(page);
      assert.ok(both <= citizen && both <= inPerson, `combined ${both} ≤ ${citizen} and ≤ ${inPerson}`);
      assert.equal(await page.locator("select#applicant").inputValue(), "citizen");
      assert.equal(await page.locator("select#channel").inputValue(), "in_person");

      const api = await getJson("/api/v1/services?applicant=citizen&channel=in_person&per_page=100");
      assert.equal(both, api.body.total);
      for (const item of api.body.items) {
        assert.ok(item.applicant_types.includes("citizen"));
        assert.ok(channelMatches(item.channel, "in_person"), `${item.slug}: ${item.channel}`);
      }
      // The demo data has in-person services for citizens (e.g. czech-point).
      assert.ok(both > 0, "there are in-person services for citizens");
    } finally {
      await closePage(page);
    }
  });

  test("situation and agenda filters use the keys of the chosen option", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/sluzby");
      const situation = await page.locator("select#situation option:not([value=''])").first().getAttribute("value");
      const agenda = await page.locator("select#agenda option:not([value=''])").first().getAttribute("value");
      await page.selectOption("select#situation", situation);
      await Promise.all([page.waitForURL((u) => u.searchParams.has("situation")), page.click("#apply-filters")]);
      assert.equal(new URL(page.url()).searchParams.get("situation"), situation);
      const api = await getJson(`/api/v1/services?situation=${encodeURIComponent(situation)}&per_page=100`);
      assert.equal(await resultCount(page), api.body.total);
      for (const item of api.body.items) assert.ok(item.life_situations.includes(situation), item.slug);

      await gotoPage(page, `/sluzby?agenda=${encodeURIComponent(agenda)}`);
      assert.equal(await page.locator("select#agenda").inputValue(), agenda);
      const apiAgenda = await getJson(`/api/v1/services?agenda=${encodeURIComponent(agenda)}&per_page=100`);
      assert.equal(await resultCount(page), apiAgenda.body.total);
      for (const item of apiAgenda.body.items) assert.equal(item.agenda, agenda, item.slug);
    } finally {
      await closePage(page);
    }
  });

  test("home page links to life situations and applicant types land on filtered catalogue pages", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/");
      const situations = await page.locator("#life-situations a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
      assert.ok(situations.length > 0, "home lists life situations");
      for (const href of situations) {
        const u = new URL(href, page.url());
        assert.equal(u.pathname, "/sluzby", href);
        assert.ok(u.searchParams.get("situation"), `${href} has ?situation=`);
      }
      const applicants = await page.locator("#applicant-types a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
      const values = [...new Set(applicants.map((h) => new URL(h, page.url()).searchParams.get("applicant")))].sort();
      assert.deepEqual(values, ["citizen", "company", "municipality", "sole_trader"], "a link for every applicant type, and only those");
      // #popular may also hold an "all services" link; the service links are the detail ones.
      const popular = (await page.locator("#popular a").evaluateAll((as) => as.map((a) => a.getAttribute("href"))))
        .map((h) => new URL(h, page.url()).pathname)
        .filter((p) => /^\/sluzby\/[^/]+$/.test(p));
      assert.ok(popular.length >= 3, `home lists several popular services, got ${JSON.stringify(popular)}`);
      const popularSlugs = popular.map(slugFromHref);
      assert.equal(popularSlugs[0], "kotlikova-dotace", "the most used service (popularity 100) comes first");
      const api = (await getJson("/api/v1/services?per_page=100")).body.items.map((i) => i.slug);
      for (const slug of popularSlugs) assert.ok(api.includes(slug), `${slug} is a real service`);

      await Promise.all([page.waitForURL(/situation=/), page.locator("#life-situations a").first().click()]);
      const key = new URL(page.url()).searchParams.get("situation");
      assert.equal(await page.locator("select#situation").inputValue(), key, "the catalogue shows the chosen situation");
    } finally {
      await closePage(page);
    }
  });

  test("pagination: rel=next / rel=prev walk through disjoint pages", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/sluzby");
      const total = await resultCount(page);
      const first = await resultLinks(page);
      assert.ok(first.length > 0);
      const next = page.locator("nav#pagination a[rel=next]");
      if (first.length >= total) {
        assert.equal(await next.count(), 0, "no next link when everything fits on one page");
        return;
      }
      assert.equal(await page.locator("nav#pagination a[rel=prev]").count(), 0, "no prev link on page 1");
      await Promise.all([page.waitForURL(/page=2/), next.click()]);
      const second = await resultLinks(page);
      assert.ok(second.length > 0);
      assert.ok(second.every((h) => !first.includes(h)), "page 2 shows other services than page 1");
      assert.equal(await resultCount(page), total, "the count is the total, not the page size");
      await Promise.all([page.waitForURL((u) => u.searchParams.get("page") !== "2"), page.locator("nav#pagination a[rel=prev]").click()]);
      assert.deepEqual(await resultLinks(page), first, "rel=prev leads back to page 1");
    } finally {
      await closePage(page);
    }
  });

  test("pagination keeps the filters in its links", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/sluzby?q=&applicant=citizen");
      const next = page.locator("nav#pagination a[rel=next]");
      if ((await next.count()) === 0) return; // one page only
      const u = new URL(await next.getAttribute("href"), page.url());
      assert.equal(u.searchParams.get("applicant"), "citizen");
      assert.equal(u.searchParams.get("page"), "2");
    } finally {
      await closePage(page);
    }
  });

  test("an invalid filter value gives HTTP 400 with an error summary naming the problem", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/sluzby?applicant=alien", 400);
      const summary = page.locator("#error-summary");
      await summary.waitFor();
      assert.equal(await summary.getAttribute("role"), "alert");
      const text = await summary.innerText();
      const label = (await page.locator("label[for=applicant]").innerText().catch(() => "")).trim();
      assert.ok(
        text.includes("alien") || (label && text.toLowerCase().includes(label.toLowerCase())),
        `the summary names the bad value or the field, got: ${text}`,
      );
      assert.equal(await page.locator("ol#results > li.result").count(), 0, "no results for an invalid request");

      await gotoPage(page, "/en/services?channel=teleport", 400);
      const en = await page.locator("#error-summary").innerText();
      assert.ok(en.trim().length > 0);
      assert.equal(await page.locator("html").getAttribute("lang"), "en");
    } finally {
      await closePage(page);
    }
  });
});
