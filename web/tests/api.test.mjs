// (7) The JSON API and its OpenAPI 3.1 document.
import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import SwaggerParser from "@apidevtools/swagger-parser";
import { requireServer, getJson, APPLICANT_TYPES, CHANNELS, channelMatches } from "./helpers.mjs";

const DEMO_SLUGS = [
  "kotlikova-dotace",
  "czech-point",
  "overeni-podpisu",
  "statni-obcanstvi",
  "verejna-sbirka",
  "zapisovy-listek",
  "osvedceni-stk",
  "predani-zdravotnicke-dokumentace",
];

function assertBilingual(value, field) {
  assert.equal(typeof value?.cs, "string", `${field}.cs`);
  assert.equal(typeof value?.en, "string", `${field}.en`);
  assert.ok(value.cs.length > 0 && value.en.length > 0, `${field} is not empty`);
}

function assertService(item) {
  assert.match(item.slug, /^[a-z0-9-]{3,80}$/);
  assertBilingual(item.name, `${item.slug}.name`);
  assertBilingual(item.summary, `${item.slug}.summary`);
  assert.ok(CHANNELS.includes(item.channel), `${item.slug}.channel = ${item.channel}`);
  assert.ok(Array.isArray(item.applicant_types) && item.applicant_types.length > 0, `${item.slug}.applicant_types`);
  for (const a of item.applicant_types) assert.ok(APPLICANT_TYPES.includes(a), `${item.slug}: applicant type ${a}`);
  assert.ok(Array.isArray(item.life_situations) && item.life_situations.length > 0, `${item.slug}.life_situations`);
  assert.equal(typeof item.agenda, "string");
}

describe("API", () => {
  before(requireServer);

  test("the OpenAPI document is valid OpenAPI 3.1 and lists the service endpoints", async () => {
    const res = await getJson("/api/openapi.json");
    assert.equal(res.status, 200);
    assert.match(res.contentType, /json/);
    const doc = res.body;
    assert.match(String(doc.openapi), /^3\.1\./, `openapi version is 3.1.x, got ${doc.openapi}`);
    assert.ok(doc.paths["/api/v1/services"]?.get, "GET /api/v1/services is documented");
    assert.ok(doc.paths["/api/v1/services/{slug}"]?.get, "GET /api/v1/services/{slug} is documented");
    const params = (doc.paths["/api/v1/services"].get.parameters ?? []).map((p) => p.name ?? p.$ref);
    for (const p of ["q", "applicant", "situation", "agenda", "channel", "page", "per_page"]) {
      assert.ok(params.some((n) => n === p || String(n).endsWith(`/${p}`)), `parameter ${p} is documented`);
    }
    try {
      await SwaggerParser.validate(structuredClone(doc));
    } catch (err) {
      assert.fail(`the OpenAPI document does not validate: ${err.message}`);
    }
  });

  test("the list has items, total, page and per_page; every item has the documented fields", async () => {
    const res = await getJson("/api/v1/services?per_page=100");
    assert.equal(res.status, 200);
    assert.match(res.contentType, /application\/json/);
    const { items, total, page, per_page } = res.body;
    assert.ok(Array.isArray(items));
    assert.equal(page, 1);
    assert.equal(per_page, 100);
    assert.equal(total, items.length, "with per_page=100 the demo data fits on one page");
    items.forEach(assertService);
    const slugs = items.map((i) => i.slug);
    for (const s of DEMO_SLUGS) assert.ok(slugs.includes(s), `demo service ${s} is listed`);
    assert.equal(new Set(slugs).size, slugs.length, "no duplicates");
  });

  test("pages are disjoint and add up to the total", async () => {
    const one = (await getJson("/api/v1/services?per_page=3&page=1")).body;
    const two = (await getJson("/api/v1/services?per_page=3&page=2")).body;
    assert.equal(one.per_page, 3);
    assert.equal(two.page, 2);
    assert.equal(one.items.length, 3);
    assert.equal(one.total, two.total);
    const a = one.items.map((i) => i.slug);
    assert.ok(two.items.every((i) => !a.includes(i.slug)), "page 2 repeats nothing from page 1");
    const last = Math.ceil(one.total / 3);
    const tail = (await getJson(`/api/v1/services?per_page=3&page=${last}`)).body;
    assert.equal(tail.items.length, one.total - 3 * (last - 1), "the last page holds the rest");
    const beyond = await getJson(`/api/v1/services?per_page=3&page=${last + 1}`);
    assert.ok(beyond.status === 200 ? beyond.body.items.length === 0 : beyond.status === 400, "past the end: empty or 400");
  });

  test("filters match the services' own data", async () => {
    const cases = [
      ["applicant=company&channel=online", (i) => i.applicant_types.includes("company") && channelMatches(i.channel, "online")],
      ["applicant=citizen", (i) => i.applicant_types.includes("citizen")],
      ["channel=in_person", (i) => channelMatches(i.channel, "in_person")],
      ["situation=housing-and-energy", (i) => i.life_situations.includes("housing-and-energy")],
      ["agenda=environment", (i) => i.agenda === "environment"],
    ];
    const all = (await getJson("/api/v1/services?per_page=100")).body.items;
    for (const [query, pred] of cases) {
      const res = await getJson(`/api/v1/services?${query}&per_page=100`);
      assert.equal(res.status, 200, query);
      for (const item of res.body.items) assert.ok(pred(item), `${query}: ${item.slug} does not match`);
      assert.equal(res.body.total, all.filter(pred).length, `${query}: exactly the matching services`);
    }
  });

  test("search: no diacritics and a typo still put kotlikova-dotace first", async () => {
    for (const q of ["kotlikova dotace", "Kotlíková", "kotlikva"]) {
      const res = await getJson(`/api/v1/services?q=${encodeURIComponent(q)}`);
      assert.equal(res.status, 200, q);
      assert.ok(res.body.items.length > 0, `${q} has results`);
      assert.equal(res.body.items[0].slug, "kotlikova-dotace", `first hit for "${q}"`);
    }
  });

  test("detail of every demo service; in-person ones are in_person", async () => {
    for (const slug of DEMO_SLUGS) {
      const res = await getJson(`/api/v1/services/${slug}`);
      assert.equal(res.status, 200, slug);
      assertService(res.body);
      assert.equal(res.body.slug, slug);
    }
    const k = (await getJson("/api/v1/services/kotlikova-dotace")).body;
    assert.equal(k.name.cs, "Kotlíková dotace");
    assert.equal(k.channel, "online");
    assert.ok(k.applicant_types.includes("citizen"));
    for (const slug of ["czech-point", "overeni-podpisu", "statni-obcanstvi"]) {
      assert.equal((await getJson(`/api/v1/services/${slug}`)).body.channel, "in_person", slug);
    }
  });

  test("an unknown service is 404", async () => {
    const res = await getJson("/api/v1/services/no-such-service");
    assert.equal(res.status, 404);
  });

  test("bad parameters are 400 with a JSON error message", async () => {
    for (const query of ["applicant=alien", "channel=teleport", "page=abc", "page=0", "per_page=-1", "situation=no-such-situation", "agenda=no-such-agenda"]) {
      const res = await getJson(`/api/v1/services?${query}`);
      assert.equal(res.status, 400, `${query} → 400`);
      assert.match(res.contentType, /json/, `${query}: JSON body`);
      assert.equal(typeof res.body?.error, "string", `${query}: body.error is a string, got ${res.text.slice(0, 200)}`);
      assert.ok(res.body.error.length > 0, `${query}: the error says something`);
    }
  });
});
