// Interoperability of the identity gateway with libraries nobody here wrote (issue #3):
// panva's openid-client as the relying party, panva's oidc-provider as the upstream identity
// provider that urad brokers. The test starts its own urad (URAD_BIN) configured with that
// upstream and the demo identity provider, so the sign-in chooser offers both.
//
//   URAD_BIN=../target/debug/urad node --test tests/interop.test.mjs      (in web/)

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import crypto from "node:crypto";
import * as oc from "openid-client";
import * as jose from "jose";
import { startUpstream, EIDAS, PEOPLE } from "../interop/upstream.mjs";
import { startUrad, freePort, URAD_BIN } from "../interop/urad.mjs";
import { Agent, forms } from "../interop/agent.mjs";

// Nothing listens on the relying party's URIs: the agent stops when it is sent there.
const RP_CALLBACK = "http://127.0.0.1:9/rp/callback";
const RP_SIGNED_OUT = "http://127.0.0.1:9/rp/signed-out";

let upstream, urad, backchannel;
const logoutTokens = [];

/** openid-client's configuration for a urad client; plain http is allowed on loopback only. */
async function rpConfig(clientId, { secret, metadata = {} } = {}) {
  const auth = secret === undefined ? oc.None() : oc.ClientSecretBasic(secret);
  return oc.discovery(new URL(urad.issuer), clientId, metadata, auth, { execute: [oc.allowInsecureRequests] });
}

/** Authorization request parameters with PKCE S256, state and nonce. */
async function authParams(extra = {}) {
  const verifier = oc.randomPKCECodeVerifier();
  return {
    verifier,
    state: oc.randomState(),
    nonce: oc.randomNonce(),
    async url(config) {
      return oc.buildAuthorizationUrl(config, {
        redirect_uri: RP_CALLBACK,
        scope: "openid profile",
        code_challenge: await oc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state: this.state,
        nonce: this.nonce,
        ...extra,
      });
    },
  };
}

/** From the sign-in chooser, the link to one upstream. */
function chooserLink(html, pageUrl, name) {
  const hrefs = [...html.matchAll(/href="([^"]*\/oidc\/upstream\/[^"]*)"/g)].map((m) => m[1].replace(/&amp;/g, "&"));
  const href = hrefs.find((h) => new URL(h, pageUrl).pathname === `/oidc/upstream/${name}`);
  assert.ok(href, `the chooser links to upstream ${name}; links: ${hrefs.join(", ")}`);
  return new URL(href, pageUrl).href;
}

/**
 * A person signs in through `via` ("demo" or "test-op") as a browser would: authorize, the
 * chooser, the upstream's sign-in form, urad's callback, back to the relying party. Returns
 * the URL the relying party is sent to.
 */
async function signIn(agent, authUrl, { via = "demo", person = "jana-novakova", loa = "substantial" } = {}) {
  let r = await agent.follow(authUrl.href, {}, { stopAt: RP_CALLBACK });
  if (r.stopped) return r.url; // live session of sufficient level: straight back
  let html = await r.res.text();
  if (new URL(r.url).pathname === "/prihlaseni") {
    assert.equal(r.res.status, 200, "the chooser page answers 200");
    r = await agent.follow(chooserLink(html, r.url, via), {}, { stopAt: RP_CALLBACK });
    html = await r.res.text();
  }
  assert.equal(r.res.status, 200, `the sign-in page of ${via} answers 200 at ${r.url}: ${html.slice(0, 300)}`);
  if (via === "demo") {
    // Every query parameter of the page plus the person and level (and any hidden field such
    // as a CSRF token the page carries).
    const form = forms(html, r.url).find((f) => f.method === "post");
    const body = new URLSearchParams(new URL(r.url).search);
    for (const [k, v] of form?.fields ?? []) body.set(k, v);
    body.set("person", person);
    body.set("loa", loa);
    r = await agent.follow(form?.action ?? r.url.split("?")[0], { form: body }, { stopAt: RP_CALLBACK });
  } else {
    const form = forms(html, r.url)[0];
    assert.ok(form, "the upstream shows its sign-in form");
    r = await agent.follow(form.action, { form: { login: person, loa } }, { stopAt: RP_CALLBACK });
  }
  assert.ok(r.stopped, `the flow ends at the relying party; it went ${r.hops.join(" -> ")}`);
  return r.url;
}

/** Follows a logout, confirming the upstream's sign-out page when it asks. */
async function signOut(agent, endSessionUrl) {
  let r = await agent.follow(endSessionUrl.href, {}, { stopAt: RP_SIGNED_OUT });
  for (let i = 0; i < 3 && !r.stopped; i++) {
    const html = await r.res.text();
    const form = forms(html, r.url).find((f) => f.method === "post");
    assert.ok(form, `logout stopped at ${r.url} (${r.res.status}) without a form: ${html.slice(0, 300)}`);
    // oidc-provider's confirmation: sign out (the button a person presses).
    if (form.id === "op.logoutForm") form.fields.set("logout", "yes");
    r = await agent.follow(form.action, { form: form.fields }, { stopAt: RP_SIGNED_OUT });
  }
  assert.ok(r.stopped, "logout ends at the post-logout redirect URI");
  return new URL(r.url);
}

describe("identity gateway interoperability (openid-client, oidc-provider)", { skip: !URAD_BIN && "URAD_BIN not set" }, () => {
  before(async () => {
    backchannel = http.createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        logoutTokens.push(new URLSearchParams(Buffer.concat(chunks).toString()).get("logout_token"));
        res.writeHead(200).end();
      });
    });
    await new Promise((resolve) => backchannel.listen(0, "127.0.0.1", resolve));
    const port = await freePort();
    const uradIssuer = `http://127.0.0.1:${port}`;
    const upstreamSecret = crypto.randomBytes(32).toString("base64url");
    upstream = await startUpstream({
      clients: [
        {
          client_id: "urad",
          client_secret: upstreamSecret,
          redirect_uris: [`${uradIssuer}/oidc/callback/test-op`],
          post_logout_redirect_uris: [`${uradIssuer}/oidc/logout/upstream`],
        },
        {
          // The same provider signing with RSA, as NIA does.
          client_id: "urad-rs256",
          client_secret: upstreamSecret,
          redirect_uris: [`${uradIssuer}/oidc/callback/test-op-rs256`],
          post_logout_redirect_uris: [`${uradIssuer}/oidc/logout/upstream`],
          id_token_signed_response_alg: "RS256",
        },
      ],
    });
    urad = await startUrad({
      port,
      upstreams: [
        {
          name: "test-op",
          label: { cs: "Testovací poskytovatel", en: "Test provider" },
          issuer: upstream.issuer,
          client_id: "urad",
          client_secret: upstreamSecret,
          client_auth: "client_secret_basic",
          scopes: ["openid", "profile", "email"],
          loa_request: "acr_values",
          claims: { given_name: "given_name", family_name: "family_name", birthdate: "birthdate" },
          link_claim: "verified_id",
        },
        {
          name: "test-op-rs256",
          label: { cs: "Testovací poskytovatel (RSA)", en: "Test provider (RSA)" },
          issuer: upstream.issuer,
          client_id: "urad-rs256",
          client_secret: upstreamSecret,
          client_auth: "client_secret_post",
          scopes: ["openid", "profile"],
          loa_request: "acr_values",
          claims: { given_name: "given_name", family_name: "family_name" },
        },
      ],
      clients: [
        {
          id: "interop-rp",
          redirectUris: [RP_CALLBACK],
          postLogoutRedirectUris: [RP_SIGNED_OUT],
          backchannelLogoutUri: `http://127.0.0.1:${backchannel.address().port}/backchannel`,
        },
        { id: "interop-spa", public: true, redirectUris: [RP_CALLBACK], postLogoutRedirectUris: [RP_SIGNED_OUT] },
        { id: "interop-high", redirectUris: [RP_CALLBACK], minLoa: "high" },
      ],
    });
    assert.equal(urad.issuer, uradIssuer);
  });

  after(async () => {
    await urad?.stop();
    await upstream?.close();
    backchannel?.closeAllConnections();
    await new Promise((resolve) => (backchannel ? backchannel.close(resolve) : resolve()));
  });

  test("discovery: openid-client accepts urad's metadata", async () => {
    const config = await rpConfig("interop-rp", { secret: urad.secrets["interop-rp"] });
    const m = config.serverMetadata();
    assert.equal(m.issuer, urad.issuer);
    for (const endpoint of ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint", "revocation_endpoint"]) {
      assert.ok(m[endpoint]?.startsWith(urad.issuer), `${endpoint} is under the issuer: ${m[endpoint]}`);
    }
    assert.ok(m.supportsPKCE(), "S256 is advertised");
    assert.deepEqual(m.response_types_supported, ["code"]);
  });

  test("code + PKCE through the demo identity provider; ID token signature verified; userinfo", async () => {
    const config = await rpConfig("interop-rp", { secret: urad.secrets["interop-rp"] });
    // Verify the ID token's signature against urad's JWKS too, not only the TLS-less channel.
    oc.enableNonRepudiationChecks(config);
    const agent = new Agent();
    const p = await authParams();
    const callback = await signIn(agent, await p.url(config), { via: "demo", loa: "substantial" });
    assert.equal(new URL(callback).searchParams.get("iss"), urad.issuer, "RFC 9207 iss in the answer");
    const tokens = await oc.authorizationCodeGrant(config, new URL(callback), {
      pkceCodeVerifier: p.verifier,
      expectedState: p.state,
      expectedNonce: p.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    assert.equal(claims.iss, urad.issuer);
    assert.equal(claims.aud, "interop-rp");
    assert.ok(tokens.refresh_token, "a refresh token is issued");
    assert.ok(agent.cookies(urad.issuer).has("urad-session"), "the browser has urad's session cookie");
    const info = await oc.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.sub, claims.sub);
    assert.ok(info.given_name, `userinfo releases profile claims: ${JSON.stringify(info)}`);
  });

  test("brokered sign-in through oidc-provider: claims mapped, asserted level, refresh, logout everywhere", async () => {
    const config = await rpConfig("interop-rp", { secret: urad.secrets["interop-rp"] });
    oc.enableNonRepudiationChecks(config);
    const agent = new Agent();
    const p = await authParams({ acr_values: EIDAS.high });
    const callback = await signIn(agent, await p.url(config), { via: "test-op", loa: "high" });
    const tokens = await oc.authorizationCodeGrant(config, new URL(callback), {
      pkceCodeVerifier: p.verifier,
      expectedState: p.state,
      expectedNonce: p.nonce,
    });
    const claims = tokens.claims();
    // The level is what the upstream asserted (high), written as urad writes levels.
    assert.match(String(claims.acr), /high/, `acr: ${claims.acr}`);
    assert.ok(agent.cookies(upstream.issuer).size > 0, "the upstream has a session of its own");

    const info = await oc.fetchUserInfo(config, tokens.access_token, claims.sub);
    const jana = PEOPLE["jana-novakova"];
    assert.equal(info.given_name, jana.given_name);
    assert.equal(info.family_name, jana.family_name);

    // Refresh rotates (reuse is among the refusals below: it ends the whole family).
    const refreshed = await oc.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, "rotated");
    assert.equal(refreshed.claims()?.sub ?? claims.sub, claims.sub);

    // A second relying party in the same browser: single sign-on, no upstream round trip.
    const spa = await rpConfig("interop-spa");
    const q = await authParams();
    const hops = await agent.follow((await q.url(spa)).href, {}, { stopAt: RP_CALLBACK });
    assert.ok(hops.stopped, `SSO answers at once; it went ${hops.hops.join(" -> ")}`);
    const spaTokens = await oc.authorizationCodeGrant(spa, new URL(hops.url), { pkceCodeVerifier: q.verifier, expectedState: q.state, expectedNonce: q.nonce });
    assert.notEqual(spaTokens.claims().sub, claims.sub, "subjects are pairwise per client");

    // RP-initiated logout: back to the RP with its state, through the upstream's own logout.
    logoutTokens.length = 0;
    const fresh = await oc.refreshTokenGrant(config, refreshed.refresh_token);
    const state = oc.randomState();
    const end = oc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: RP_SIGNED_OUT, state });
    const back = await signOut(agent, end);
    assert.equal(back.searchParams.get("state"), state);
    // The session has ended: userinfo refuses even an unexpired access token, refresh too.
    await assert.rejects(oc.fetchUserInfo(config, fresh.access_token, claims.sub), (e) => e.status === 401 || e.code === "OAUTH_WWW_AUTHENTICATE_CHALLENGE");
    await assert.rejects(oc.refreshTokenGrant(config, fresh.refresh_token), (e) => e.error === "invalid_grant");
    await assert.rejects(oc.refreshTokenGrant(spa, spaTokens.refresh_token), (e) => e.error === "invalid_grant");
    // Back-channel logout token for interop-rp, signed by urad (OIDC Back-Channel Logout 1.0 §2.4).
    for (let i = 0; i < 50 && logoutTokens.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(logoutTokens.length, 1, "one back-channel logout token");
    const { payload, protectedHeader } = await jose.jwtVerify(logoutTokens[0], jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri)), {
      issuer: urad.issuer,
      audience: "interop-rp",
      typ: "logout+jwt",
    });
    assert.equal(protectedHeader.alg, "ES256");
    assert.ok(payload.events?.["http://schemas.openid.net/event/backchannel-logout"], "the logout event");
    assert.ok(payload.sub === claims.sub || payload.sid, "names the subject or the session");
    assert.equal(payload.nonce, undefined, "no nonce in a logout token");
  });

  test("brokered sign-in through an upstream signing RS256 ID tokens, client_secret_post", async () => {
    const config = await rpConfig("interop-rp", { secret: urad.secrets["interop-rp"] });
    const p = await authParams();
    const callback = await signIn(new Agent(), await p.url(config), { via: "test-op-rs256", person: "petr-svoboda", loa: "substantial" });
    const tokens = await oc.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: p.verifier, expectedState: p.state, expectedNonce: p.nonce });
    assert.match(String(tokens.claims().acr), /substantial/, `acr: ${tokens.claims().acr}`);
    const info = await oc.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
    assert.equal(info.family_name, PEOPLE["petr-svoboda"].family_name);
  });

  test("public client: code + PKCE without a secret, refresh, revocation", async () => {
    const config = await rpConfig("interop-spa");
    const agent = new Agent();
    const p = await authParams();
    const callback = await signIn(agent, await p.url(config), { via: "demo" });
    const tokens = await oc.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: p.verifier, expectedState: p.state, expectedNonce: p.nonce });
    const refreshed = await oc.refreshTokenGrant(config, tokens.refresh_token);
    await oc.tokenRevocation(config, refreshed.refresh_token);
    await assert.rejects(oc.refreshTokenGrant(config, refreshed.refresh_token), (e) => e.error === "invalid_grant");
  });

  test("a client that needs high gets a level-high session: step-up beyond substantial", async () => {
    const config = await rpConfig("interop-high", { secret: urad.secrets["interop-high"] });
    const agent = new Agent();
    const p = await authParams();
    const callback = await signIn(agent, await p.url(config), { via: "demo", loa: "high" });
    const tokens = await oc.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: p.verifier, expectedState: p.state, expectedNonce: p.nonce });
    assert.match(String(tokens.claims().acr), /high/);
  });

  describe("refused with the standard error", () => {
    let config;
    before(async () => {
      config = await rpConfig("interop-rp", { secret: urad.secrets["interop-rp"] });
    });

    /** A full sign-in; returns the callback URL and the authorization parameters. */
    async function codeFor(extra) {
      const p = await authParams(extra);
      return { p, callback: new URL(await signIn(new Agent(), await p.url(config))) };
    }

    test("missing PKCE: invalid_request at the redirect URI", async () => {
      const state = oc.randomState();
      const url = oc.buildAuthorizationUrl(config, { redirect_uri: RP_CALLBACK, scope: "openid", state });
      const r = await new Agent().follow(url.href, {}, { stopAt: RP_CALLBACK });
      assert.ok(r.stopped, "an error for a registered redirect URI goes back to the client");
      await assert.rejects(
        oc.authorizationCodeGrant(config, new URL(r.url), { expectedState: state }),
        (e) => e instanceof oc.AuthorizationResponseError && e.error === "invalid_request",
      );
    });

    test("plain PKCE method: invalid_request", async () => {
      const state = oc.randomState();
      const url = oc.buildAuthorizationUrl(config, { redirect_uri: RP_CALLBACK, scope: "openid", state, code_challenge: oc.randomPKCECodeVerifier(), code_challenge_method: "plain" });
      const r = await new Agent().follow(url.href, {}, { stopAt: RP_CALLBACK });
      assert.ok(r.stopped);
      await assert.rejects(oc.authorizationCodeGrant(config, new URL(r.url), { expectedState: state }), (e) => e.error === "invalid_request");
    });

    test("reused refresh token: invalid_grant, and the whole family ends", async () => {
      const { p, callback } = await codeFor();
      const tokens = await oc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: p.verifier, expectedState: p.state, expectedNonce: p.nonce });
      const next = await oc.refreshTokenGrant(config, tokens.refresh_token);
      await assert.rejects(oc.refreshTokenGrant(config, tokens.refresh_token), (e) => e instanceof oc.ResponseBodyError && e.error === "invalid_grant");
      // The token the thief or the client holds now is dead too (RFC 9700 §4.14.2).
      await assert.rejects(oc.refreshTokenGrant(config, next.refresh_token), (e) => e.error === "invalid_grant");
    });

    test("wrong code verifier: invalid_grant", async () => {
      const { p, callback } = await codeFor();
      await assert.rejects(
        oc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: oc.randomPKCECodeVerifier(), expectedState: p.state, expectedNonce: p.nonce }),
        (e) => e instanceof oc.ResponseBodyError && e.error === "invalid_grant",
      );
    });

    test("replayed code: invalid_grant", async () => {
      const { p, callback } = await codeFor();
      const checks = { pkceCodeVerifier: p.verifier, expectedState: p.state, expectedNonce: p.nonce };
      await oc.authorizationCodeGrant(config, callback, checks);
      await assert.rejects(oc.authorizationCodeGrant(config, callback, checks), (e) => e.error === "invalid_grant");
    });

    test("wrong redirect URI: an error page, never a redirect to it", async () => {
      for (const uri of ["http://127.0.0.1:9/elsewhere", `${RP_CALLBACK}/extra`, "https://attacker.example/cb"]) {
        const url = oc.buildAuthorizationUrl(config, {
          redirect_uri: uri,
          scope: "openid",
          code_challenge: await oc.calculatePKCECodeChallenge(oc.randomPKCECodeVerifier()),
          code_challenge_method: "S256",
        });
        const res = await new Agent().fetch(url.href);
        assert.equal(res.status, 400, `redirect_uri ${uri}`);
        assert.equal(res.headers.get("location"), null);
      }
    });

    test("unknown client: an error page at authorize, invalid_client at the token endpoint", async () => {
      const url = new URL(config.serverMetadata().authorization_endpoint);
      url.search = new URLSearchParams({ response_type: "code", client_id: "nobody", redirect_uri: RP_CALLBACK, scope: "openid", code_challenge: "x".repeat(43), code_challenge_method: "S256" });
      const res = await new Agent().fetch(url.href);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get("location"), null);
      // 401 with a Basic challenge (RFC 6749 §5.2): openid-client surfaces the challenge.
      for (const [id, secret] of [["nobody", "not-a-secret"], ["interop-rp", "wrong"]]) {
        const stranger = await rpConfig(id, { secret });
        const e = await oc.refreshTokenGrant(stranger, "whatever").then(
          () => assert.fail(`client ${id} was accepted`),
          (err) => err,
        );
        assert.ok(e instanceof oc.WWWAuthenticateChallengeError, `${e.name}: ${e.message}`);
        assert.equal(e.status, 401);
        assert.equal(e.cause[0].scheme, "basic");
        assert.equal((await e.response.json()).error, "invalid_client");
      }
    });

    test("tampered ID token: refused by openid-client's signature check", async () => {
      const tampering = await rpConfig("interop-rp", { secret: urad.secrets["interop-rp"] });
      oc.enableNonRepudiationChecks(tampering);
      // Change one claim of the ID token in the token answer, keeping the signature.
      tampering[oc.customFetch] = async (url, options) => {
        const res = await fetch(url, options);
        if (url !== tampering.serverMetadata().token_endpoint) return res;
        const body = await res.json();
        const [h, payload, s] = body.id_token.split(".");
        const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
        claims.sub = "someone-else";
        body.id_token = [h, Buffer.from(JSON.stringify(claims)).toString("base64url"), s].join(".");
        return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
      };
      const p = await authParams();
      const callback = new URL(await signIn(new Agent(), await p.url(tampering)));
      await assert.rejects(
        oc.authorizationCodeGrant(tampering, callback, { pkceCodeVerifier: p.verifier, expectedState: p.state, expectedNonce: p.nonce }),
        (e) => e.code === "OAUTH_INVALID_RESPONSE" && /signature verification failed/.test(e.cause?.message),
      );
    });

    test("expired ID token: refused by openid-client (its clock two hours ahead)", async () => {
      const late = await rpConfig("interop-rp", { secret: urad.secrets["interop-rp"], metadata: { [oc.clockSkew]: 2 * 3600 } });
      const p = await authParams();
      const callback = new URL(await signIn(new Agent(), await p.url(late)));
      await assert.rejects(
        oc.authorizationCodeGrant(late, callback, { pkceCodeVerifier: p.verifier, expectedState: p.state, expectedNonce: p.nonce }),
        (e) => e.code === "OAUTH_JWT_TIMESTAMP_CHECK_FAILED" && /"exp"/.test(e.cause?.message),
      );
    });

    test("expired or forged access token at userinfo: invalid_token", async () => {
      const { p, callback } = await codeFor();
      const tokens = await oc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: p.verifier, expectedState: p.state, expectedNonce: p.nonce });
      const [h, payload, s] = tokens.access_token.split(".");
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
      const sub = tokens.claims().sub;
      for (const change of [{ exp: Math.floor(Date.now() / 1000) - 60 }, { sub: "someone-else" }]) {
        const forged = [h, Buffer.from(JSON.stringify({ ...claims, ...change })).toString("base64url"), s].join(".");
        await assert.rejects(oc.fetchUserInfo(config, forged, sub), (e) => e.status === 401 && e.cause?.[0]?.parameters?.error === "invalid_token");
      }
    });
  });
});
