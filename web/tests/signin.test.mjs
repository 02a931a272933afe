// Sign-in through the identity gateway as a person does it, in Chromium: two clicks to sign
// in with the demo identity provider, step-up when a service asks for the high level, and
// sign-out of every service at once; with and without JavaScript, and axe on every page of
// the flow.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, newPage, closePage, gotoPage, checkA11y } from "./helpers.mjs";

const MEDICAL_RECORDS = "/sluzby/predani-zdravotnicke-dokumentace/podani";

// One browser for the file; each suite has its own context (own cookies).
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const javaScriptEnabled of [true, false]) {
  // axe runs inside the page, so it checks the pages with JavaScript on.
  const a11y = (page, label) => (javaScriptEnabled ? checkA11y(page, label) : Promise.resolve());
  describe(`sign-in, step-up and sign-out (JavaScript ${javaScriptEnabled ? "on" : "off"})`, () => {
    let page;
    before(async () => {
      page = await newPage(browser, { javaScriptEnabled });
    });
    after(async () => {
      await closePage(page);
    });

    test("a new visitor signs in with two clicks", async () => {
      await gotoPage(page, "/");
      // Click 1 (by keyboard): "Přihlásit se" in the header.
      await page.locator("#sign-in").focus();
      await Promise.all([page.waitForURL(/\/demo-idp\/authorize/), page.keyboard.press("Enter")]);
      assert.ok(await page.locator("#demo-banner").isVisible(), "the demo provider says it is a demo");
      await a11y(page, "demo identity provider");
      // Click 2: a test person at the substantial level.
      await Promise.all([
        page.waitForURL(/\/ucet$/),
        page.locator('button[value="jana-novakova:substantial"]').click(),
      ]);
      assert.equal(await page.locator("#level").textContent(), "značná");
      assert.match(await page.locator("#identity").textContent(), /Jana Nováková/);
      assert.match(await page.locator("#account-link").textContent(), /Jana Nováková/);
      await a11y(page, "my account");
    });

    test("a service that needs the high level asks for step-up", async () => {
      await gotoPage(page, MEDICAL_RECORDS);
      assert.equal(await page.locator("#apply-verified").count(), 0);
      await Promise.all([page.waitForURL(/\/demo-idp\/authorize/), page.locator("#apply-sign-in").click()]);
      assert.equal(await page.locator('button[value="jana-novakova:substantial"]').count(), 0, "only high is offered");
      await Promise.all([
        page.waitForURL((u) => u.pathname === MEDICAL_RECORDS),
        page.locator('button[value="jana-novakova:high"]').click(),
      ]);
      assert.match(await page.locator("#apply-verified").textContent(), /Jana Nováková/);
      await a11y(page, "service start after step-up");
      await gotoPage(page, "/ucet");
      assert.equal(await page.locator("#level").textContent(), "vysoká");
    });

    test("signing out ends the session everywhere", async () => {
      await gotoPage(page, "/sluzby");
      await Promise.all([page.waitForURL(/\/odhlaseno$/), page.locator("#sign-out").click()]);
      await a11y(page, "signed out");
      assert.equal(await page.locator("#sign-in").count(), 1, "the header offers sign-in again");
      await gotoPage(page, "/ucet");
      assert.equal(await page.locator("#account-sign-in").count(), 1);
      // The gateway session is gone too: the next sign-in goes to the provider again.
      await gotoPage(page, "/ucet");
      await Promise.all([page.waitForURL(/\/demo-idp\/authorize/), page.locator("#account-sign-in").click()]);
    });
  });
}

describe("pages of the sign-in flow pass axe", () => {
  let page;
  before(async () => {
    page = await newPage(browser);
  });
  after(async () => {
    await closePage(page);
  });

  test("an authorization request from an unknown client is an error page, in both languages", async () => {
    await gotoPage(page, "/oidc/authorize?client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2F", 400);
    assert.notEqual(new URL(page.url()).hostname, "evil.example", "no redirect to an unregistered URI");
    await checkA11y(page, "sign-in error (cs)");
    await gotoPage(page, "/oidc/authorize?client_id=nobody&ui_locales=en", 400);
    assert.match(await page.locator("h1").textContent(), /Sign-in did not succeed/);
    await checkA11y(page, "sign-in error (en)");
  });

  test("My account signed out, and the logout confirmation", async () => {
    await gotoPage(page, "/en/account");
    await checkA11y(page, "my account, signed out (en)");
    await gotoPage(page, "/ucet");
    await Promise.all([page.waitForURL(/\/demo-idp\/authorize/), page.locator("#account-sign-in").click()]);
    await Promise.all([page.waitForURL(/\/ucet$/), page.locator('button[value="petr-svoboda:low"]').click()]);
    // A logout request without an ID token hint asks the person first.
    await gotoPage(page, "/oidc/logout");
    assert.equal(await page.locator("#notice-submit").count(), 1);
    await checkA11y(page, "logout confirmation");
    await Promise.all([page.waitForURL(/\/odhlaseno$/), page.locator("#notice-submit").click()]);
  });
});
