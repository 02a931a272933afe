// An upstream OpenID Provider for urad to broker: panva's oidc-provider with a minimal login
// page of its own, so the tests and `cargo xtask bench login` exercise a real, independently
// written implementation rather than one of ours.
//
// As a module:   const op = await startUpstream({ clients: [...] });  …  await op.close();
// As a program:  node interop/upstream.mjs --port 0 --client-id bench --redirect-uri URI
//                prints one JSON line {"issuer", "client_id", "client_secret"} once it listens
//                (what xtask's benchmark reads), then serves until killed.
//
// The login page (GET /interaction/UID) is a form with the test person and the eIDAS level;
// POST /interaction/UID/login signs that person in at that level. Consent is never asked:
// every client here is "first party", so a grant is created on the first authorization.

import http from "node:http";
import crypto from "node:crypto";
import { parseArgs } from "node:util";
import Provider from "oidc-provider";

/** eIDAS levels of assurance as `acr` values (urad maps these URIs by default). */
export const EIDAS = {
  low: "http://eidas.europa.eu/LoA/low",
  substantial: "http://eidas.europa.eu/LoA/substantial",
  high: "http://eidas.europa.eu/LoA/high",
};

/** Test people of the upstream. */
export const PEOPLE = {
  "jana-novakova": {
    given_name: "Jana",
    family_name: "Nováková",
    birthdate: "1985-04-12",
    email: "jana.novakova@example.cz",
    email_verified: true,
    verified_id: "CZ/CZ/8a1f0b2c-jana",
  },
  "petr-svoboda": {
    given_name: "Petr",
    family_name: "Svoboda",
    birthdate: "1970-11-02",
    email: "petr.svoboda@example.cz",
    email_verified: true,
    verified_id: "CZ/CZ/77c3d9e1-petr",
  },
};

function signingKeys() {
  // Fresh keys per process: nothing here must outlive a test run.
  const jwk = (pair, alg) => ({
    ...pair.privateKey.export({ format: "jwk" }),
    alg,
    use: "sig",
    kid: `${alg.toLowerCase()}-${crypto.randomBytes(4).toString("hex")}`,
  });
  return [
    jwk(crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }), "RS256"),
    jwk(crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }), "ES256"),
  ];
}

/**
 * oidc-provider's own in-memory adapter keeps at most 1 000 entries (an LRU), so under a load
 * of many concurrent sign-ins it forgets interactions still in use. The benchmark uses this
 * unbounded one instead: still in memory, nothing evicted but what expires or is destroyed.
 */
class MapAdapter {
  static #store = new Map();

  constructor(model) {
    this.model = model;
  }

  #key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const store = MapAdapter.#store;
    const key = this.#key(id);
    store.set(key, { payload, expires: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    if (payload.grantId) {
      const grant = `grant:${payload.grantId}`;
      if (!store.has(grant)) store.set(grant, { keys: [], expires: Infinity });
      store.get(grant).keys.push(key);
    }
    if (payload.uid) store.set(`${this.model}:uid:${payload.uid}`, { id, expires: Infinity });
    if (payload.userCode) store.set(`${this.model}:userCode:${payload.userCode}`, { id, expires: Infinity });
  }

  async find(id) {
    const key = this.#key(id);
    const entry = MapAdapter.#store.get(key);
    if (!entry) return undefined;
    if (entry.expires <= Date.now()) {
      MapAdapter.#store.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  async findByUid(uid) {
    const ref = MapAdapter.#store.get(`${this.model}:uid:${uid}`);
    return ref ? this.find(ref.id) : undefined;
  }

  async findByUserCode(userCode) {
    const ref = MapAdapter.#store.get(`${this.model}:userCode:${userCode}`);
    return ref ? this.find(ref.id) : undefined;
  }

  async consume(id) {
    const entry = MapAdapter.#store.get(this.#key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    MapAdapter.#store.delete(this.#key(id));
  }

  async revokeByGrantId(grantId) {
    const grant = MapAdapter.#store.get(`grant:${grantId}`);
    for (const key of grant?.keys ?? []) MapAdapter.#store.delete(key);
    MapAdapter.#store.delete(`grant:${grantId}`);
  }
}

const escape = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/**
 * Starts oidc-provider on 127.0.0.1.
 *
 * options:
 *   port            0 (default) for any free port
 *   clients         oidc-provider client metadata; `grant_types` defaults to code + refresh
 *   idTokenAlg      ID token signing algorithm for clients that do not set one (ES256)
 *   rotateRefresh   rotate refresh tokens on every use (true, as urad does)
 *   unbounded       keep state in an unbounded map instead of oidc-provider's 1 000-entry LRU
 * Returns { issuer, provider, server, close() }.
 */
export async function startUpstream(options = {}) {
  const { port = 0, clients = [], idTokenAlg = "ES256", rotateRefresh = true, unbounded = false } = options;
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    ...(unbounded ? { adapter: MapAdapter } : {}),
    clients: clients.map((c) => ({
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      id_token_signed_response_alg: idTokenAlg,
      ...c,
    })),
    jwks: { keys: signingKeys() },
    cookies: { keys: [crypto.randomBytes(32).toString("hex")] },
    acrValues: Object.values(EIDAS),
    // Explicit lifetimes (oidc-provider nags about its defaults); short like urad's.
    ttl: { AccessToken: 300, AuthorizationCode: 60, IdToken: 300, Interaction: 600, Grant: 86400, Session: 86400, RefreshToken: 86400 },
    claims: {
      openid: ["sub"],
      profile: ["given_name", "family_name", "birthdate", "verified_id"],
      email: ["email", "email_verified"],
    },
    // urad reads the person's claims from the ID token like from NIA's; keep them there too.
    conformIdTokenClaims: false,
    async findAccount(_ctx, id) {
      const person = PEOPLE[id];
      if (!person) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...person }) };
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = page(
            "Sign out?",
            `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>`,
          );
        },
      },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // PKCE for every client, as urad must send it to NIA and banks.
    pkce: { required: () => true },
    // Refresh tokens for every client allowed the grant, without offline_access/prompt=consent.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    rotateRefreshToken: () => rotateRefresh,
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const existing = await ctx.oidc.provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope("openid profile email offline_access");
      await grant.save();
      return grant;
    },
    renderError(ctx, out) {
      ctx.type = "html";
      ctx.body = page("Error", `<pre>${escape(JSON.stringify(out))}</pre>`);
    },
  });
  const callback = provider.callback();

  server.on("request", async (req, res) => {
    const path = new URL(req.url, issuer).pathname;
    const m = path.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (!m) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.uid !== m[1]) throw new Error("interaction does not match its cookie");
      if (req.method === "GET" && !m[2]) {
        const people = Object.entries(PEOPLE)
          .map(([id, p]) => `<option value="${escape(id)}">${escape(`${p.given_name} ${p.family_name}`)}</option>`)
          .join("");
        const levels = Object.keys(EIDAS)
          .map((l) => `<option value="${l}"${l === "substantial" ? " selected" : ""}>${l}</option>`)
          .join("");
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
        res.end(
          page(
            "Test upstream sign-in",
            `<form method="post" action="/interaction/${escape(details.uid)}/login">` +
              `<label>Person <select name="login">${people}</select></label>` +
              `<label>Level <select name="loa">${levels}</select></label>` +
              `<button type="submit">Sign in</button></form>`,
          ),
        );
        return;
      }
      if (req.method === "POST" && m[2]) {
        const form = await readForm(req);
        const login = form.get("login");
        const acr = EIDAS[form.get("loa") || "substantial"];
        if (!PEOPLE[login] || !acr) {
          res.writeHead(400, { "content-type": "text/plain" });
          res.end("unknown person or level");
          return;
        }
        await provider.interactionFinished(req, res, { login: { accountId: login, acr } }, { mergeWithLastSubmission: false });
        return;
      }
      res.writeHead(405).end();
    } catch (err) {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end(`interaction failed: ${err.message}`);
    }
  });

  return {
    issuer,
    provider,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

// As a program: one confidential client, for the benchmark.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      "client-id": { type: "string", default: "bench" },
      "client-secret": { type: "string" },
      "redirect-uri": { type: "string", default: "http://127.0.0.1:9/callback" },
    },
  });
  const secret = values["client-secret"] || crypto.randomBytes(32).toString("base64url");
  const op = await startUpstream({
    port: Number(values.port),
    unbounded: true,
    clients: [{ client_id: values["client-id"], client_secret: secret, redirect_uris: [values["redirect-uri"]] }],
  });
  process.stdout.write(`${JSON.stringify({ issuer: op.issuer, client_id: values["client-id"], client_secret: secret })}\n`);
  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => op.close().then(() => process.exit(0)));
}
