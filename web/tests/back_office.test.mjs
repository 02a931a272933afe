// The back office's journey of issue #5, in the browser with the keyboard: a citizen sends a
// general submission; the filing-office clerk finds it in the registry journal and moves it to
// the grants agenda; the official takes it on and asks for completion; the citizen completes
// it through the portal; the official decides; the citizen downloads the decision and sees in
// "Who accessed my data" each official who touched it. axe runs on every back-office page and
// on the citizen's new pages; the agenda lead's overview is checked too.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { SMTPServer } from "smtp-server";
import { simpleParser } from "mailparser";
import { launchBrowser, newPage, closePage, gotoPage, checkA11y, enterOn, typeInto, focusState } from "./helpers.mjs";

// urad sends its e-mail to this port (`cargo xtask test` sets URAD_SMTP_URL for the server and
// URAD_TEST_SMTP_PORT for these tests); a real SMTP server listens on it here.
const SMTP_PORT = Number(process.env.URAD_TEST_SMTP_PORT);
const mailbox = [];

function startSmtp() {
  if (!SMTP_PORT) {
    assert.fail("URAD_TEST_SMTP_PORT is not set: run the browser tests with `cargo xtask test`, which points urad's e-mail at it");
  }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then((message) => {
        mailbox.push(message);
        callback();
      }, callback);
    },
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(SMTP_PORT, "127.0.0.1", () => resolve(server));
  });
}

/** Waits for an e-mail to `to` whose subject is `subject`. */
async function mailTo(to, subject) {
  for (let i = 0; i < 120; i++) {
    const found = mailbox.find((m) => m.to?.value.some((a) => a.address === to) && m.subject === subject);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`no e-mail "${subject}" to ${to}; the mailbox has: ${mailbox.map((m) => m.subject).join(" | ")}`);
}

/** Signs `person` in from a page that asks for it (the back office redirects to the sign-in). */
async function signInAt(page, path, person, landing) {
  await page.goto(path);
  await page.waitForURL(/\/demo-idp\/authorize/);
  await enterOn(page, `button[value="${person}:substantial"]`, landing);
}

/** Sends the general submission as the signed-in person; returns its reference number. */
async function sendGeneralSubmission(page, subject, text) {
  await enterOn(page, "#form-start", /\/krok\/sender$/);
  await enterOn(page, "#continue", /\/krok\/submission$/);
  if (subject !== null) await typeInto(page, "#field-subject", subject);
  await typeInto(page, "#field-text", text);
  await enterOn(page, "#continue", /\/kontrola$/);
  await enterOn(page, "#send", /\/potvrzeni$/);
  return (await page.locator("#reference").innerText()).trim();
}

/** Presses Enter on `selector` (a form's button) and waits for the page it leads back to. */
async function sendAndReturn(page, selector, path) {
  await page.locator(selector).focus();
  const s = await focusState(page);
  assert.ok(s.indicator, `a visible focus indicator on ${s.description}`);
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === "GET" && new URL(r.url()).pathname === path),
    page.keyboard.press("Enter"),
  ]);
  await page.waitForLoadState();
}

/** Reloads `path` until `selector`'s text matches (the back office takes submissions in within seconds). */
async function waitForText(page, path, selector, pattern) {
  for (let i = 0; i < 40; i++) {
    await gotoPage(page, path);
    const text = (await page.locator(selector).count()) ? await page.locator(selector).innerText() : "";
    if (pattern.test(text)) return;
    await page.waitForTimeout(250);
  }
  assert.fail(`${selector} on ${path} never matched ${pattern}`);
}

describe("the back office from the registry journal to a decision", () => {
  let browser;
  let smtp;
  before(async () => {
    browser = await launchBrowser();
    smtp = await startSmtp();
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => (smtp ? smtp.close(r) : r()));
  });

  test("submit, journal, completion request, completion, decision, who accessed my data", async () => {
    const citizen = await newPage(browser);
    const clerk = await newPage(browser);
    const official = await newPage(browser);
    try {
      // The citizen sends a general submission.
      await gotoPage(citizen, "/formulare/obecne-podani");
      await enterOn(citizen, "#form-sign-in", /\/demo-idp\/authorize/);
      await enterOn(citizen, 'button[value="petr-svoboda:substantial"]', /\/formulare\/obecne-podani$/);
      const subject = `Žádost o dotaci na opravu kapličky ${Date.now()}`;
      const reference = await sendGeneralSubmission(citizen, subject, "Prosím o posouzení žádosti.");
      assert.match(reference, /^KUMSK \d+\/\d{4}$/);
      const detail = new URL(citizen.url()).pathname.replace(/\/potvrzeni$/, "");

      // The clerk finds it in the registry journal and moves it to the grants agenda.
      await signInAt(clerk, "/urad/podaci-denik", "radek-podatelna", /\/urad\/podaci-denik$/);
      await typeInto(clerk, "#q", reference);
      await enterOn(clerk, "#search", /\/urad\/podaci-denik\?/);
      await waitForText(clerk, new URL(clerk.url()).pathname + new URL(clerk.url()).search, "#journal", new RegExp(reference));
      await checkA11y(clerk, "registry journal");
      const row = clerk.locator("#journal tbody tr", { hasText: reference });
      const select = row.locator("select");
      await select.focus();
      await select.selectOption("grants");
      await row.locator("button").focus();
      await Promise.all([clerk.waitForURL(/\/urad\/podaci-denik$/), clerk.keyboard.press("Enter")]);
      assert.match(await clerk.locator("#journal tbody tr", { hasText: reference }).innerText(), /Dotace a granty/);

      // The official of grants takes it on and asks for completion.
      await signInAt(official, "/urad", "ursula-urednikova", /\/urad$/);
      await checkA11y(official, "inbox");
      const link = official.locator("#cases a", { hasText: reference });
      await link.focus();
      await Promise.all([official.waitForURL(/\/urad\/spisy\/[0-9a-f]+$/), official.keyboard.press("Enter")]);
      const casePath = new URL(official.url()).pathname;
      assert.ok((await official.locator("main").innerText()).includes(subject), "the submission's data");
      await checkA11y(official, "case file");
      await sendAndReturn(official, "#assign-me", casePath);
      assert.equal(await official.locator("#case-assignee").innerText(), "Já");
      await sendAndReturn(official, "#move-start", casePath);
      assert.equal(await official.locator("#case-state").innerText(), "Ve vyřizování");
      await typeInto(official, "#message-request-completion", "Doložte prosím souhlas vlastníka pozemku.");
      await sendAndReturn(official, "#move-request-completion", casePath);
      assert.equal(await official.locator("#case-state").innerText(), "Čeká na doplnění");
      assert.match(await official.locator("#requests").innerText(), /souhlas vlastníka/);
      // The request also reaches the citizen by e-mail, at the address of their identity.
      const request = await mailTo("petr.svoboda@example.cz", `Výzva k doplnění podání ${reference}`);
      assert.match(request.text, /Doložte prosím souhlas vlastníka pozemku\./);
      assert.match(request.from.text, /podatelna@kraj\.example\.cz/);
      await checkA11y(official, "case file awaiting completion");

      // The citizen sees the request on the submission's page and completes it.
      await gotoPage(citizen, detail);
      assert.match(await citizen.locator("#case-state").innerText(), /Čeká na vaše doplnění/);
      assert.match(await citizen.locator("#case").innerText(), /souhlas vlastníka pozemku/);
      await checkA11y(citizen, "submission with a completion request");
      await enterOn(citizen, "#complete-1", /\/krok\/sender$/);
      await enterOn(citizen, "#continue", /\/krok\/submission$/);
      assert.match(await citizen.locator("#field-subject").inputValue(), new RegExp(`Doplnění podání č\\. j\\. ${reference.replace("/", "\\/")}`));
      await typeInto(citizen, "#field-text", "Souhlas vlastníka přikládám v textu: souhlasím. Jan Vlastník");
      await enterOn(citizen, "#continue", /\/kontrola$/);
      await enterOn(citizen, "#send", /\/potvrzeni$/);

      // The official sees the case move on, and approves it with a reasoning.
      await waitForText(official, casePath, "#case-state", /Ve vyřizování/);
      await typeInto(official, "#message-approve", "Žádost splňuje podmínky programu.");
      await sendAndReturn(official, "#move-approve", casePath);
      assert.equal(await official.locator("#case-state").innerText(), "Vyhověno");
      const decided = await mailTo("petr.svoboda@example.cz", `Ve věci ${reference} bylo vydáno rozhodnutí`);
      assert.match(decided.text, /žádosti se vyhovuje/);
      await checkA11y(official, "decided case file");

      // The citizen gets the decision, and sees who accessed their data.
      await gotoPage(citizen, detail);
      assert.match(await citizen.locator("#case-state").innerText(), /Vyhověno/);
      const href = await citizen.locator("#decision-pdf").getAttribute("href");
      const pdf = await citizen.request.get(href);
      assert.equal(pdf.status(), 200);
      assert.equal(pdf.headers()["content-type"], "application/pdf");
      assert.equal((await pdf.body()).subarray(0, 5).toString(), "%PDF-");
      await checkA11y(citizen, "submission with a decision");
      await enterOn(citizen, "#mine-nav", /\/moje-podani$/);
      await enterOn(citizen, "#who-accessed", /\/kdo-videl-moje-udaje$/);
      const log = await citizen.locator("#accesses").innerText();
      for (const text of ["Uršula Úředníková", "Radek Podatelný", "nahlédl do spisu", "rozhodl: vyhověno", "Dotace a granty", "vyřízení vašeho podání"]) {
        assert.ok(log.includes(text), `"Who accessed my data" shows ${text}`);
      }
      await checkA11y(citizen, "who accessed my data");
      // The notices of the request and the decision are in the portal inbox too.
      await gotoPage(citizen, "/zpravy");
      const inbox = await citizen.locator("#messages-list").innerText();
      assert.ok(inbox.includes(`Výzva k doplnění podání ${reference}`), "the request's notice");
      assert.ok(inbox.includes(`Ve věci ${reference} bylo vydáno rozhodnutí`), "the decision's notice");
      await checkA11y(citizen, "messages from the office");
    } finally {
      await closePage(citizen);
      await closePage(clerk);
      await closePage(official);
    }
  });

  test("the agenda lead's overview and the pages that refuse the wrong role pass axe", async () => {
    const lead = await newPage(browser, { locale: "en-GB" });
    const citizen = await newPage(browser);
    try {
      await signInAt(lead, "/en/office/dashboard", "libor-vedouci", /\/en\/office\/dashboard$/);
      assert.ok(await lead.locator("svg[role=img]").isVisible(), "the chart");
      assert.ok((await lead.locator("#dash-table tbody tr").count()) >= 28, "a row a day");
      await checkA11y(lead, "agenda overview");
      // The queue of hand-offs to the records-management system (the decided case is in it).
      await gotoPage(lead, "/en/office/hand-offs");
      assert.ok(await lead.locator("#queue-counts").isVisible());
      await checkA11y(lead, "hand-off queue");
      await gotoPage(citizen, "/formulare/obecne-podani");
      await enterOn(citizen, "#form-sign-in", /\/demo-idp\/authorize/);
      await enterOn(citizen, 'button[value="jana-novakova:substantial"]', /\/formulare\/obecne-podani$/);
      await gotoPage(citizen, "/urad", 403);
      assert.match(await citizen.locator("h1").innerText(), /Jen pro zaměstnance úřadu/);
      await checkA11y(citizen, "back office refused");
    } finally {
      await closePage(lead);
      await closePage(citizen);
    }
  });

  test("the administrator's access log and outgoing e-mail, and a citizen's notification settings, by keyboard and with axe", async () => {
    const admin = await newPage(browser);
    const citizen = await newPage(browser);
    try {
      await signInAt(admin, "/urad", "alena-spravcova", /\/urad$/);
      await enterOn(admin, "#access-log-link", /\/urad\/pristupy$/);
      assert.ok(await admin.locator("#log-head").isVisible(), "the chain's head");
      await checkA11y(admin, "access log");
      await typeInto(admin, "#reference", "KUMSK 999999/1999");
      await enterOn(admin, "#filter", /\/urad\/pristupy\?/);
      await admin.locator("#log-unknown-reference").waitFor();
      await checkA11y(admin, "access log, unknown reference");
      await gotoPage(admin, "/urad");
      await enterOn(admin, "#mail-link", /\/urad\/odchozi-posta$/);
      assert.ok(await admin.locator("#queue-counts").isVisible());
      await checkA11y(admin, "outgoing e-mail");

      await signInAt(citizen, "/nastaveni-oznameni", "jana-novakova", /\/nastaveni-oznameni$/);
      await checkA11y(citizen, "notification settings");
      // Her identity gives an address; she chooses another one, by keyboard.
      await citizen.locator("#address-own").focus();
      await citizen.keyboard.press("Space");
      await typeInto(citizen, "#own_email", "jana@@example");
      await enterOn(citizen, "#save-settings", /\/nastaveni-oznameni$/);
      await citizen.locator("#error-summary").waitFor();
      assert.equal(await citizen.locator("#own_email").inputValue(), "jana@@example", "the value kept");
      await checkA11y(citizen, "notification settings with an error");
      await typeInto(citizen, "#own_email", "jana.jinde@example.cz");
      await enterOn(citizen, "#save-settings", /\/nastaveni-oznameni\?saved=1$/);
      assert.ok(await citizen.locator("#settings-saved").isVisible());
      assert.equal(await citizen.locator("#own_email").inputValue(), "jana.jinde@example.cz");
      await checkA11y(citizen, "notification settings saved");
    } finally {
      await closePage(admin);
      await closePage(citizen);
    }
  });
});
