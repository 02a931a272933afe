// (6) axe-core finds no WCAG 2.0/2.1 A or AA violations on any page type, in either language.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, newPage, closePage, gotoPage, checkA11y } from "./helpers.mjs";

const PAGES = [
  { name: "home", cs: "/", en: "/en" },
  { name: "catalogue", cs: "/sluzby", en: "/en/services" },
  {
    name: "catalogue with query and filters",
    cs: "/sluzby?q=dotace&applicant=citizen&channel=online",
    en: "/en/services?q=grant&applicant=citizen&channel=online",
    expect: "ol#results > li.result mark",
  },
  { name: "no results", cs: "/sluzby?q=qxzvwkj", en: "/en/services?q=qxzvwkj", expect: "#no-results" },
  { name: "bad filter (400)", cs: "/sluzby?applicant=alien", en: "/en/services?applicant=alien", status: 400, expect: "#error-summary" },
  { name: "detail, online", cs: "/sluzby/kotlikova-dotace", en: "/en/services/kotlikova-dotace", expect: "#start-service" },
  { name: "detail, in person", cs: "/sluzby/czech-point", en: "/en/services/czech-point", expect: "#in-person" },
  { name: "start page", cs: "/sluzby/kotlikova-dotace/podani", en: "/en/services/kotlikova-dotace/apply" },
  { name: "accessibility statement", cs: "/prohlaseni-o-pristupnosti", en: "/en/accessibility" },
  { name: "404", cs: "/tato-stranka-neexistuje", en: "/en/this-page-does-not-exist", status: 404 },
];

describe("accessibility (axe, WCAG 2.1 AA)", () => {
  let browser;
  let page;
  before(async () => {
    browser = await launchBrowser();
    page = await newPage(browser);
  });
  after(async () => {
    await closePage(page);
    await browser?.close();
  });

  for (const p of PAGES) {
    for (const lang of ["cs", "en"]) {
      test(`${p.name} (${lang}): ${p[lang]}`, async () => {
        await gotoPage(page, p[lang], p.status ?? 200);
        if (p.expect) {
          assert.ok((await page.locator(p.expect).count()) > 0, `the page shows ${p.expect} (so the right state is checked)`);
        }
        await checkA11y(page, `${p.name} (${lang}) ${p[lang]}`);
      });
    }
  }
});
