// Filling in an online form as a person does, with the keyboard: sign in with the demo
// identity provider, fill the general submission (obecne-podani) correcting one error on the
// way, check the answers, send, see the receipt and find it in My submissions. axe checks
// every new page type: the form's start page, a step, a step with errors, check your answers,
// the receipt, My submissions and a submission's detail.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, newPage, closePage, gotoPage, checkA11y, focusState, enterOn, typeInto } from "./helpers.mjs";

describe("filling in an online form", () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  test("sign in, fill the general submission with one error corrected, send, find the receipt", async () => {
    const page = await newPage(browser);
    try {
      // Signed out, the form's start page asks to sign in first.
      await gotoPage(page, "/formulare/obecne-podani");
      await enterOn(page, "#form-sign-in", /\/demo-idp\/authorize/);
      await enterOn(page, 'button[value="jana-novakova:substantial"]', /\/formulare\/obecne-podani$/);
      assert.equal(await page.locator("h1").innerText(), "Obecné podání krajskému úřadu");
      await checkA11y(page, "form start page");

      // Step 1: the sender, filled from the verified identity.
      await enterOn(page, "#form-start", /\/moje-podani\/[0-9a-f]+\/krok\/sender$/);
      const stepUrl = page.url();
      assert.match(await page.locator("#progress").innerText(), /Krok 1 z 2/);
      assert.equal(await page.locator("#field-sender-name").innerText(), "Jana Nováková");
      assert.ok(await page.getByText("Ověřeno z vaší identity").first().isVisible());
      assert.equal(await page.locator('input[name="sender.name"]').count(), 0, "not editable");
      await checkA11y(page, "form step");

      // A phone number in the wrong form: the step again with the error summary, focused.
      await typeInto(page, "#field-sender-phone", "zavolejte večer");
      await page.locator("#continue").focus();
      const [answer] = await Promise.all([
        page.waitForResponse((r) => r.url() === stepUrl && r.request().method() === "POST"),
        page.keyboard.press("Enter"),
      ]);
      assert.equal(answer.status(), 422, "a step with errors answers 422");
      await page.locator("#error-summary").waitFor();
      await page.waitForLoadState();
      assert.ok(await page.locator("#error-summary").isVisible());
      assert.equal((await focusState(page)).id, "error-summary", "focus is on the error summary");
      const link = page.locator('#error-summary a[href="#field-sender-phone"]');
      assert.match(await link.innerText(), /telefon/i);
      assert.equal(await page.locator("#field-sender-phone").inputValue(), "zavolejte večer", "the value is kept");
      assert.equal(await page.locator("#field-sender-phone").getAttribute("aria-invalid"), "true");
      assert.match(await page.title(), /^Chyba: /);
      await checkA11y(page, "form step with errors");

      // Corrected, and Enter in the field submits the step.
      await typeInto(page, "#field-sender-phone", "+420 777 123 456");
      await Promise.all([page.waitForURL(/\/krok\/submission$/), page.keyboard.press("Enter")]);
      assert.match(await page.locator("#progress").innerText(), /Krok 2 z 2/);
      await typeInto(page, "#field-subject", "Žádost o informace");
      await typeInto(page, "#field-text", "Dobrý den, prosím o informaci o stavu silnice.");
      await enterOn(page, "#continue", /\/kontrola$/);

      // Check your answers.
      assert.match(await page.locator("h1").innerText(), /Zkontrolujte své odpovědi/);
      const answers = await page.locator("main").innerText();
      for (const text of ["Jana Nováková", "+420 777 123 456", "Žádost o informace"]) {
        assert.ok(answers.includes(text), `${text} is on the check page`);
      }
      assert.ok((await page.locator('a[href$="/krok/sender"]').count()) > 0, "a Change link to step 1");
      await checkA11y(page, "check your answers");

      // Send: the receipt.
      await enterOn(page, "#send", /\/potvrzeni$/);
      const reference = (await page.locator("#reference").innerText()).trim();
      assert.match(reference, /^KUMSK \d+\/\d{4}$/);
      assert.match(await page.locator("#data-sha256").innerText(), /^[0-9a-f]{64}$/);
      assert.match(await page.locator("#receipt").innerText(), /verze 1/);
      await checkA11y(page, "receipt");

      // My submissions, from the header: the submission is listed; its detail has the timeline.
      await enterOn(page, "#mine-nav", /\/moje-podani$/);
      await checkA11y(page, "my submissions");
      const row = page.locator("#submissions a", { hasText: reference });
      assert.equal(await row.count(), 1, `${reference} is listed once`);
      await row.focus();
      await Promise.all([page.waitForURL(/\/moje-podani\/[0-9a-f]+$/), page.keyboard.press("Enter")]);
      const timeline = await page.locator("#timeline").innerText();
      for (const step of ["Rozpracováno", "Naposledy uloženo", "Přijato úřadem"]) {
        assert.ok(timeline.includes(step), `the timeline shows ${step}`);
      }
      await checkA11y(page, "submission detail");
    } finally {
      await closePage(page);
    }
  });

  test("save and finish later, resume from My submissions, delete after confirming", async () => {
    const page = await newPage(browser, { locale: "en-GB" });
    try {
      await gotoPage(page, "/en/account/sign-in?return=%2Fen%2Fforms%2Fobecne-podani");
      await enterOn(page, 'button[value="petr-svoboda:substantial"]', /\/en\/forms\/obecne-podani$/);
      await enterOn(page, "#form-start", /\/en\/my-submissions\/[0-9a-f]+\/step\/sender$/);
      await enterOn(page, "#continue", /\/step\/submission$/);
      await typeInto(page, "#field-subject", "Noise at night");
      await enterOn(page, "#save-later", /\/en\/my-submissions$/);
      assert.equal(await page.locator("#drafts > li").count(), 1, "one unfinished submission");
      // Continue: the first step with something missing, with what was saved.
      await enterOn(page, '#drafts a[href$="/continue"]', /\/step\/submission$/);
      assert.equal(await page.locator("#field-subject").inputValue(), "Noise at night");
      await gotoPage(page, "/en/my-submissions");
      await enterOn(page, '#drafts a[href$="/delete"]', /\/delete$/);
      await checkA11y(page, "delete confirmation");
      await enterOn(page, "#notice-submit", /\/en\/my-submissions$/);
      assert.equal(await page.locator("#drafts > li").count(), 0, "the draft is gone");
      assert.ok(await page.locator("#no-drafts").isVisible());
    } finally {
      await closePage(page);
    }
  });
});
