// (5) Keyboard use: skip link first and visible, Enter moves focus to main; the catalogue form
//     is reachable and submittable with the keyboard; every focus stop is visibly marked.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, newPage, closePage, gotoPage, focusState, tabUntil } from "./helpers.mjs";

const FILTER_CONTROLS = ["q", "applicant", "situation", "agenda", "channel", "apply-filters"];

function assertIndicator(state) {
  assert.ok(
    state.indicator,
    `no visible focus indicator (outline on it or a close ancestor, or box-shadow) on ${state.description}`,
  );
}

describe("keyboard", () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  for (const path of ["/", "/en/services", "/sluzby/kotlikova-dotace"]) {
    test(`${path}: Tab focuses the visible skip link first, Enter moves focus to main`, async () => {
      const page = await newPage(browser);
      try {
        await gotoPage(page, path);
        await page.keyboard.press("Tab");
        const s = await focusState(page);
        assert.equal(s.tag, "a");
        assert.ok(s.className.split(/\s+/).includes("skip-link"), `first focus is the skip link, got ${s.description}`);
        assert.equal(s.href, "#main");
        assert.ok(await page.locator("a.skip-link").isVisible(), "the focused skip link is visible");
        assert.ok(s.rect.width > 0 && s.rect.height > 0, "it has a size");
        assert.ok(
          s.rect.x >= 0 && s.rect.y >= 0 && s.rect.x + s.rect.width <= s.viewport.width && s.rect.y + s.rect.height <= s.viewport.height,
          `it is inside the viewport when focused: ${JSON.stringify(s.rect)}`,
        );
        assertIndicator(s);
        assert.ok(
          s.indicator.kind === "box-shadow" || s.indicator.on.startsWith("a"),
          `the skip link itself has the outline or box-shadow, got ${JSON.stringify(s.indicator)}`,
        );

        await page.keyboard.press("Enter");
        await page.waitForFunction(() => location.hash === "#main");
        const after = await focusState(page);
        assert.ok(after.id === "main" || after.inMain, `focus moved to main, got ${after.description}`);

        // The next Tab continues inside main, not back in the header.
        await page.keyboard.press("Tab");
        const next = await focusState(page);
        assert.ok(next.inMain, `Tab after the skip link lands inside main, got ${next.description}`);
      } finally {
        await closePage(page);
      }
    });
  }

  test("Tab reaches every catalogue filter and the submit button in order, each visibly focused", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/sluzby");
      const seen = await tabUntil(page, (s) => s.id === "apply-filters");
      const order = FILTER_CONTROLS.map((id) => seen.findIndex((s) => s.id === id));
      for (const [i, id] of FILTER_CONTROLS.entries()) {
        assert.ok(order[i] >= 0, `#${id} is reachable with Tab`);
        if (i > 0) assert.ok(order[i] > order[i - 1], `#${id} comes after #${FILTER_CONTROLS[i - 1]}`);
      }
      for (const s of seen) assertIndicator(s);
    } finally {
      await closePage(page);
    }
  });

  test("type a query, pick a channel with the arrow keys, Enter on the button submits", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/sluzby");
      await tabUntil(page, (s) => s.id === "q");
      await page.keyboard.type("dotace");
      await tabUntil(page, (s) => s.id === "channel");
      await page.keyboard.press("ArrowDown");
      const channel = await page.locator("select#channel").inputValue();
      assert.notEqual(channel, "", "ArrowDown on the focused select picks the next option");
      await tabUntil(page, (s) => s.id === "apply-filters");
      await Promise.all([page.waitForURL((u) => u.searchParams.has("channel")), page.keyboard.press("Enter")]);
      const u = new URL(page.url());
      assert.equal(u.searchParams.get("q"), "dotace");
      assert.equal(u.searchParams.get("channel"), channel);
    } finally {
      await closePage(page);
    }
  });

  test("Enter in the search box submits the form", async () => {
    const page = await newPage(browser);
    try {
      await gotoPage(page, "/sluzby");
      await tabUntil(page, (s) => s.id === "q");
      await page.keyboard.type("kotlik");
      await Promise.all([page.waitForURL((u) => u.searchParams.get("q") === "kotlik"), page.keyboard.press("Enter")]);
      assert.ok((await page.locator("ol#results > li.result").count()) > 0);
    } finally {
      await closePage(page);
    }
  });

  for (const path of ["/", "/sluzby/kotlikova-dotace", "/sluzby?q=dotace"]) {
    test(`${path}: every Tab stop has a visible focus indicator`, async () => {
      const page = await newPage(browser);
      try {
        await gotoPage(page, path);
        const stops = [];
        for (let i = 0; i < 60; i++) {
          await page.keyboard.press("Tab");
          const s = await focusState(page);
          if (s.isBody || (stops.length > 0 && s.description === stops[0].description && i > 2)) break;
          stops.push(s);
        }
        assert.ok(stops.length >= 3, `the page has focusable elements, got ${stops.length}`);
        for (const s of stops) assertIndicator(s);
      } finally {
        await closePage(page);
      }
    });
  }
});
