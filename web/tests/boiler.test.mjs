// The e-filing journey of issue #4 with attachments: a person who has never used the portal
// signs in, fills the boiler-grant application (kotlikova-dotace) step by step with the
// keyboard, attaches the photo of the old boiler, leaves (the browser is closed), signs in
// again later, resumes the draft from My submissions on the step where they stopped, with the
// photo still attached, attaches the invoice, sends, and downloads the receipt file, which
// `urad verify-receipt` (URAD_BIN) accepts together with the very files that were attached.
// On the way: a program renamed to .pdf is refused with a message in the slot and nothing is
// attached; the attachments step passes axe, works at 200 % zoom, and announces uploads.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { launchBrowser, newPage, closePage, gotoPage, checkA11y, enterOn, typeInto } from "./helpers.mjs";

const URAD_BIN = process.env.URAD_BIN;

/** Focuses a radio button or a checkbox and ticks it with the space bar. */
async function tick(page, selector) {
  await page.locator(selector).focus();
  await page.keyboard.press(" ");
  assert.ok(await page.locator(selector).isChecked(), `${selector} is ticked`);
}

/** Chooses an option of a select with the keyboard (arrow keys from the first option). */
async function choose(page, selector, value) {
  const select = page.locator(selector);
  const values = await select.locator("option").evaluateAll((os) => os.map((o) => o.value));
  const steps = values.indexOf(value);
  assert.ok(steps > 0, `${selector} offers ${value}`);
  await select.focus();
  for (let i = 0; i < steps; i++) await page.keyboard.press("ArrowDown");
  assert.equal(await select.inputValue(), value);
}

/** A file whose content starts and ends as the type's real files do. */
function fileLike(head, tail, size) {
  const bytes = crypto.randomBytes(size);
  Buffer.from(head, "binary").copy(bytes, 0);
  Buffer.from(tail, "binary").copy(bytes, size - tail.length);
  return bytes;
}

/** Chooses `file` in the slot's input and sends it with the slot's button (keyboard). */
async function attach(page, slot, file) {
  const input = `#attachment-${slot}`;
  await page.locator(input).setInputFiles(file);
  await page.locator(`#slot-${slot.replace(/-/g, "_")} form.attachment-upload button[type=submit]`).focus();
  await Promise.all([page.waitForURL(/#attachments-status$/), page.keyboard.press("Enter")]);
}

describe("the boiler-grant application with attachments", () => {
  let browser;
  let dir;
  before(async () => {
    browser = await launchBrowser();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "urad-boiler-"));
  });
  after(async () => {
    await browser?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("sign in, fill, attach, leave, resume the draft, send, verify the downloaded receipt", async () => {
    const photo = { name: "kotel.jpg", mimeType: "image/jpeg", buffer: fileLike("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00", "\xFF\xD9", 40_000) };
    const invoice = { name: "faktura.pdf", mimeType: "application/pdf", buffer: fileLike("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", "\n%%EOF\n", 60_000) };
    const program = { name: "faktura-2.pdf", mimeType: "application/pdf", buffer: fileLike("\x7fELF\x02\x01\x01\x00", "\x00", 4_000) };

    // First visit: a person new to the portal signs in from the form's start page.
    let page = await newPage(browser);
    let draftId;
    try {
      await gotoPage(page, "/formulare/kotlikova-dotace");
      await enterOn(page, "#form-sign-in", /\/demo-idp\/authorize/);
      await enterOn(page, 'button[value="karel-dvorak:substantial"]', /\/formulare\/kotlikova-dotace$/);
      assert.equal(await page.locator("h1").innerText(), "Žádost o kotlíkovou dotaci");
      await enterOn(page, "#form-start", /\/moje-podani\/[0-9a-f]+\/krok\/applicant$/);
      draftId = page.url().match(/\/moje-podani\/([0-9a-f]+)\//)[1];

      // The applicant: name and birth date come from the verified identity.
      assert.match(await page.locator("#progress").innerText(), /Krok 1 z 5/);
      assert.equal(await page.locator("#field-applicant-name").innerText(), "Karel Dvořák");
      assert.equal(await page.locator('input[name="applicant.name"]').count(), 0, "the name is not editable");
      await typeInto(page, "#field-applicant-permanent-address-building-id", "21436588");
      await enterOn(page, "#continue", /\/krok\/building$/);

      // The building.
      await typeInto(page, "#field-building-building-id", "5123456");
      await tick(page, 'input[name="building.type"][value="family_house"]');
      await tick(page, "#field-building-approved");
      await typeInto(page, "#field-building-municipality-code", "598917");
      await choose(page, "#field-building-energy-class", "C");
      await enterOn(page, "#continue", /\/krok\/heating$/);

      // The old boiler and the new heat source (no installer's certificate is then needed).
      await tick(page, 'input[name="old_boiler.fuel"][value="coal"]');
      await tick(page, 'input[name="old_boiler.feeding"][value="manual"]');
      await choose(page, "#field-old-boiler-emission-class", "2");
      await tick(page, 'input[name="new_source"][value="gas_condensing"]');
      await typeInto(page, "#field-eligible-costs-czk", "185000");
      await enterOn(page, "#continue", /\/krok\/payment$/);
      await typeInto(page, "#field-payment-bank-account", "19-2000145399/0800");
      await enterOn(page, "#continue", /\/krok\/attachments$/);
      assert.match(await page.locator("#progress").innerText(), /Krok 5 z 5/);
      await checkA11y(page, "attachments step");

      // The photo: attached, announced in a live region, listed in its slot.
      await attach(page, "old-boiler-photo", photo);
      const status = page.locator("#attachments-status");
      assert.equal(await status.getAttribute("role"), "status");
      assert.match(await status.innerText(), /kotel\.jpg/);
      assert.match(await page.locator("#slot-old_boiler_photo .attachment-files").innerText(), /kotel\.jpg/);
      await checkA11y(page, "attachments step with a file");

      // A program renamed to .pdf: refused in its slot, with the reason; nothing attached.
      await page.locator("#attachment-invoice-or-budget").setInputFiles(program);
      await page.locator("#slot-invoice_or_budget form.attachment-upload button[type=submit]").focus();
      const [refused] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === "POST" && r.url().includes("/prilohy")),
        page.keyboard.press("Enter"),
      ]);
      assert.ok(refused.status() >= 400, `the refusal answers ${refused.status()}`);
      await page.waitForLoadState();
      const error = page.locator("#attachment-invoice-or-budget-error");
      assert.match(await error.innerText(), /program|spustiteln/i);
      assert.equal(await page.locator("#attachment-invoice-or-budget").getAttribute("aria-invalid"), "true");
      assert.equal(await page.locator("#slot-invoice_or_budget .attachment-file").count(), 0, "nothing attached");
      await checkA11y(page, "attachments step with a refused file");

      // At 200 % zoom (half the CSS width) the step needs no horizontal scrolling.
      await page.setViewportSize({ width: 640, height: 450 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling at 200 % zoom (${overflow}px too wide)`);
    } finally {
      // The person leaves: the browser and its session are gone.
      await closePage(page);
    }

    // Later, in a new browser: sign in again and go on from My submissions.
    page = await newPage(browser);
    try {
      await gotoPage(page, "/moje-podani");
      await enterOn(page, "#mine-sign-in", /\/demo-idp\/authorize/);
      await enterOn(page, 'button[value="karel-dvorak:substantial"]', /\/moje-podani$/);
      const resume = page.locator(`#drafts a[href*="${draftId}"][href$="/pokracovat"]`);
      assert.equal(await resume.count(), 1, "the draft is in My submissions");
      await resume.focus();
      // Every step before the attachments is complete, so the draft resumes there.
      await Promise.all([page.waitForURL(/\/krok\/attachments$/), page.keyboard.press("Enter")]);
      assert.match(await page.locator("#slot-old_boiler_photo .attachment-files").innerText(), /kotel\.jpg/, "the photo is still attached");
      await attach(page, "invoice-or-budget", invoice);
      assert.match(await page.locator("#slot-invoice_or_budget .attachment-files").innerText(), /faktura\.pdf/);
      await enterOn(page, "#continue", /\/kontrola$/);
      const answers = await page.locator("main").innerText();
      for (const text of ["Karel Dvořák", "21436588", "19-2000145399/0800", "kotel.jpg", "faktura.pdf"]) {
        assert.ok(answers.includes(text), `${text} is on the check page`);
      }
      await checkA11y(page, "check your answers with attachments");

      // Send, and the receipt lists both files with their SHA-256.
      await enterOn(page, "#send", /\/potvrzeni$/);
      const reference = (await page.locator("#reference").innerText()).trim();
      assert.match(reference, /^KUMSK \d+\/\d{4}$/);
      const files = await page.locator("#receipt-files").innerText();
      for (const f of [photo, invoice]) {
        assert.ok(files.includes(f.name), `${f.name} is on the receipt`);
        assert.ok(files.includes(crypto.createHash("sha256").update(f.buffer).digest("hex")), `the SHA-256 of ${f.name}`);
      }
      await checkA11y(page, "receipt with attachments");

      // The receipt file, downloaded with the keyboard.
      await page.locator("#receipt-file").focus();
      const [download] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
      const receiptPath = path.join(dir, download.suggestedFilename());
      await download.saveAs(receiptPath);
      assert.match(download.suggestedFilename(), /^potvrzeni-KUMSK-\d+-\d{4}\.json$/);
      const receipt = JSON.parse(fs.readFileSync(receiptPath, "utf8"));
      assert.equal(receipt.format, "urad-receipt-file/1");

      if (!URAD_BIN) {
        test.diagnostic("URAD_BIN not set: `urad verify-receipt` was not run on the downloaded file");
        return;
      }
      const attached = [photo, invoice].map((f) => {
        const p = path.join(dir, f.name);
        fs.writeFileSync(p, f.buffer);
        return p;
      });
      const verify = (args) => spawnSync(URAD_BIN, ["verify-receipt", receiptPath, ...args], { encoding: "utf8" });
      const ok = verify(attached.flatMap((p) => ["--attachment", p]));
      assert.equal(ok.status, 0, `urad verify-receipt accepts the receipt:\n${ok.stdout}\n${ok.stderr}`);
      assert.match(ok.stdout, new RegExp(reference.replace("/", "\\/")));
      assert.match(ok.stdout, /The receipt verifies/);
      // And it is not a rubber stamp: a file that was not attached fails.
      const other = path.join(dir, "other.pdf");
      fs.writeFileSync(other, program.buffer);
      const bad = verify(["--attachment", other]);
      assert.equal(bad.status, 1, `a file that was not attached fails:\n${bad.stdout}`);
    } finally {
      await closePage(page);
    }
  });
});
