//! The sign-in flow end to end over HTTP, as a browser goes through it: the portal and a
//! third-party client of the gateway, the demo identity provider as the upstream, step-up,
//! single sign-on, and sign-out of every client at once (back-channel logout).

use crate::harness::TestApp;
use crate::on_both_backends;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use urad_identity::clients::{self, NewClient};
use urad_identity::{audit, jose, Loa};

/// A browser: keeps cookies, follows redirects on the portal's origin one at a time.
pub struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub url: String,
    pub body: String,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("urad-test-browser")
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.base)
        } else {
            url.to_owned()
        }
    }

    fn keep_cookies(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if v.contains("Max-Age=0") || val.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> (u16, Option<String>, String) {
        let r = req
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&r);
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|l| self.absolute(l.to_str().unwrap()));
        (status, location, r.text().await.unwrap())
    }

    /// GET `url`, following redirects while they stay on the portal's origin; stops at the
    /// first answer that is not a redirect or at a redirect elsewhere (a client's callback).
    pub async fn visit(&mut self, url: &str) -> Page {
        let mut url = self.absolute(url);
        for _ in 0..10 {
            let (status, location, body) = self.send(self.http.get(&url)).await;
            match location {
                Some(next) if (300..400).contains(&status) => {
                    if !next.starts_with(&self.base) {
                        return Page {
                            status,
                            url: next,
                            body,
                        };
                    }
                    url = next;
                }
                _ => return Page { status, url, body },
            }
        }
        panic!("too many redirects from {url}");
    }

    /// POSTs a form, then follows redirects like `visit`.
    pub async fn submit(&mut self, url: &str, form: &[(String, String)]) -> Page {
        let url = self.absolute(url);
        let (status, location, body) = self.send(self.http.post(&url).form(form)).await;
        match location {
            Some(next) if (300..400).contains(&status) && next.starts_with(&self.base) => {
                self.visit(&next).await
            }
            Some(next) => Page {
                status,
                url: next,
                body,
            },
            None => Page { status, url, body },
        }
    }

    /// POSTs a file as a page's upload form does (`multipart/form-data`: the CSRF token, then
    /// the file part `file`), then follows redirects like `visit`.
    pub async fn upload(&mut self, url: &str, csrf: &str, file_name: &str, bytes: Vec<u8>) -> Page {
        let url = self.absolute(url);
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
            );
        let (status, location, body) = self.send(self.http.post(&url).multipart(form)).await;
        match location {
            Some(next) if (300..400).contains(&status) && next.starts_with(&self.base) => {
                self.visit(&next).await
            }
            Some(next) => Page {
                status,
                url: next,
                body,
            },
            None => Page { status, url, body },
        }
    }

    /// On the demo provider's page, signs in as `person` at `loa`.
    pub async fn demo_sign_in(&mut self, page: &Page, person: &str, loa: &str) -> Page {
        assert!(
            page.url.contains("/demo-idp/authorize"),
            "expected the demo provider, got {} ({})",
            page.url,
            page.status
        );
        let query = page.url.split_once('?').unwrap().1;
        let mut form: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        form.push(("choice".into(), format!("{person}:{loa}")));
        self.submit("/demo-idp/authorize", &form).await
    }
}

/// The value of a hidden input `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in page"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

on_both_backends!(
    another_device_is_signed_out_from_my_account,
    a_citizen_signs_in_to_the_portal_and_steps_up,
    single_sign_on_and_sign_out_of_every_client,
    the_flow_is_bound_to_its_browser_and_used_once,
);

async fn a_citizen_signs_in_to_the_portal_and_steps_up(app: TestApp) {
    let mut b = Browser::new(&app.base);
    // Signed out: the header offers sign-in, "My account" says what it will show.
    let home = b.visit("/").await;
    assert!(home.body.contains("id=\"sign-in\""), "{}", home.body);
    // Click 1: "Sign in" → the only upstream is the demo provider, straight there.
    let demo = b.visit("/ucet/prihlasit").await;
    assert_eq!(demo.status, 200);
    assert!(demo.body.contains("id=\"demo-banner\""));
    assert!(b.has_cookie("urad-login") && b.has_cookie("urad-portal"));
    // Click 2: a test person → back in the portal, signed in.
    let account = b.demo_sign_in(&demo, "jana-novakova", "substantial").await;
    assert_eq!(account.status, 200, "{}", account.body);
    assert!(account.url.ends_with("/ucet"), "{}", account.url);
    assert!(account.body.contains("Jana Nováková"));
    assert!(account.body.contains("Ostrava"));
    assert!(account.body.contains("<dd id=\"level\">značná</dd>"));
    assert!(b.has_cookie("urad-session"));
    let home = b.visit("/sluzby").await;
    assert!(home.body.contains("id=\"account-link\""));
    assert!(home.body.contains("Jana Nováková"));

    // A service asks for `high` (transfer of medical records): its start page offers step-up.
    let apply_path = "/sluzby/predani-zdravotnicke-dokumentace/podani";
    let apply = b.visit(apply_path).await;
    assert!(
        apply.body.contains("id=\"apply-sign-in\""),
        "{}",
        apply.body
    );
    assert!(apply.body.contains("acr=high"));
    assert!(!apply.body.contains("id=\"apply-verified\""));
    // A service that needs `substantial` is satisfied by the session as it is.
    let grant = b.visit("/sluzby/kotlikova-dotace/podani").await;
    assert!(grant.body.contains("id=\"apply-verified\""));
    let step_up = format!(
        "/ucet/prihlasit?acr=high&return={}",
        urad_identity::authorize::encode(apply_path)
    );
    // At the provider only the high level is offered now.
    let demo = b.visit(&step_up).await;
    assert!(demo.body.contains("jana-novakova:high"));
    assert!(!demo.body.contains("jana-novakova:substantial"));
    // A person without a high means is offered nothing to choose.
    assert!(!demo.body.contains("petr-svoboda:"));
    let refused = b.demo_sign_in(&demo, "jana-novakova", "substantial").await;
    assert_eq!(refused.status, 400);
    let demo = b.visit(&step_up).await;
    let back = b.demo_sign_in(&demo, "jana-novakova", "high").await;
    assert!(back.url.ends_with(apply_path), "{}", back.url);
    assert!(back.body.contains("id=\"apply-verified\""));
    assert!(back.body.contains("Jana Nováková"));
    let account = b.visit("/ucet").await;
    assert!(account.body.contains("<dd id=\"level\">vysoká</dd>"));
    // The same session, stepped up in place: one active sign-in.
    assert_eq!(account.body.matches("toto zařízení").count(), 1);
    assert!(!account.body.contains("/ucet/relace/ukoncit"));
    let db = app.store.open().await.unwrap();
    let events: Vec<String> = audit::recent(&db, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(events, ["step_up", "sign_in"], "{events:?}");
    // Signed in already: the next sign-in needs no provider page (single sign-on), and a
    // return to another host (an open redirect) lands on My account instead.
    let page = b.visit("/ucet/prihlasit?return=//evil.example").await;
    assert_eq!(page.status, 200);
    assert!(page.url.ends_with("/ucet"), "{}", page.url);
}

/// A back-channel logout receiver: records the logout tokens it gets.
async fn logout_receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let store = got.clone();
    let app = axum::Router::new().route(
        "/backchannel",
        axum::routing::post(move |body: String| {
            let store = store.clone();
            async move {
                let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap();
                store.lock().unwrap().push(form["logout_token"].clone());
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/backchannel"), got)
}

async fn single_sign_on_and_sign_out_of_every_client(app: TestApp) {
    let db = app.store.open().await.unwrap();
    let (backchannel, received) = logout_receiver().await;
    let secret = clients::add(
        &db,
        &urad_core::SystemClock,
        &NewClient {
            client_id: "grants-app".into(),
            name: "Dotace".into(),
            name_en: None,
            redirect_uris: vec!["http://127.0.0.1:9/cb".into()],
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: Some(backchannel),
            public: false,
            min_loa: Loa::Substantial,
            source: "test".into(),
        },
    )
    .await
    .unwrap()
    .unwrap();
    let mut b = Browser::new(&app.base);
    let demo = b.visit("/ucet/prihlasit").await;
    b.demo_sign_in(&demo, "petr-svoboda", "substantial").await;

    // Single sign-on: the other client gets a code without any page in between.
    let authorize = format!(
        "/oidc/authorize?response_type=code&client_id=grants-app&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb\
         &scope=openid%20profile&state=s1&nonce=n1&code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    let back = b.visit(&authorize).await;
    assert!(
        back.url.starts_with("http://127.0.0.1:9/cb?code="),
        "{}",
        back.url
    );
    assert_eq!(query_param(&back.url, "state").as_deref(), Some("s1"));
    assert_eq!(
        query_param(&back.url, "iss").as_deref(),
        Some(app.base.as_str())
    );
    let code = query_param(&back.url, "code").unwrap();
    let tokens: serde_json::Value = app
        .client
        .post(app.url("/oidc/token"))
        .basic_auth("grants-app", Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let published = urad_identity::keys::published(&db, &urad_core::SystemClock)
        .await
        .unwrap();
    let (_, id_claims) = jose::verify(tokens["id_token"].as_str().unwrap(), &published).unwrap();
    assert_eq!(id_claims["acr"], "http://eidas.europa.eu/LoA/substantial");
    assert_eq!(id_claims["nonce"], "n1");
    assert_eq!(id_claims["amr"], serde_json::json!(["mfa"]));
    let sid = id_claims["sid"].as_str().unwrap().to_owned();

    // prompt=none with a session that is too weak for the client's acr_values.
    let silent = b
        .visit(&format!(
            "{authorize}&prompt=none&acr_values=http%3A%2F%2Feidas.europa.eu%2FLoA%2Fhigh"
        ))
        .await;
    assert_eq!(
        query_param(&silent.url, "error").as_deref(),
        Some("interaction_required")
    );

    // Sign out from the portal: every client of the session is told, the provider too.
    let account = b.visit("/ucet").await;
    let csrf = hidden(&account.body, "csrf");
    // Without the CSRF token nothing happens.
    let forged = b
        .submit("/ucet/odhlasit", &[("csrf".into(), "x".into())])
        .await;
    assert_eq!(forged.status, 403);
    let done = b.submit("/ucet/odhlasit", &[("csrf".into(), csrf)]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.url.ends_with("/odhlaseno"), "{}", done.url);
    assert!(!b.has_cookie("urad-session"));
    let tokens_received = received.lock().unwrap().clone();
    assert_eq!(tokens_received.len(), 1, "one back-channel logout token");
    let (header, logout) = jose::verify(&tokens_received[0], &published).unwrap();
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(logout["sid"], sid.as_str());
    assert_eq!(logout["aud"], "grants-app");
    assert!(logout["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(logout.get("nonce").is_none());
    // The other client's refresh token is dead, and so is userinfo.
    let refresh = app
        .client
        .post(app.url("/oidc/token"))
        .basic_auth("grants-app", Some(&secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), 400);
    let userinfo = app
        .client
        .get(app.url("/oidc/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401);
    // The portal, too, shows the person signed out.
    let account = b.visit("/ucet").await;
    assert!(account.body.contains("id=\"account-sign-in\""));
    let kinds: Vec<String> = audit::recent(&db, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds[0], "sign_out", "{kinds:?}");
    // The audited address is the connection's peer, not a header the client could set.
    let ips: Vec<Option<String>> = urad_store::sqlx::query_scalar(
        "SELECT ip FROM audit_event WHERE kind IN ('sign_in', 'sign_out') ORDER BY id",
    )
    .fetch_all(db.reader())
    .await
    .unwrap();
    assert_eq!(
        ips,
        [Some("127.0.0.1".to_owned()), Some("127.0.0.1".to_owned())]
    );
}

async fn the_flow_is_bound_to_its_browser_and_used_once(app: TestApp) {
    let mut alice = Browser::new(&app.base);
    let demo = alice.visit("/ucet/prihlasit").await;
    // The provider answers, but in another browser (login CSRF): refused, nothing signed in.
    let query = demo.url.split_once('?').unwrap().1;
    let mut form: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    form.push(("choice".into(), "karel-dvorak:high".into()));
    let mut mallory = Browser::new(&app.base);
    let to_callback = app
        .client
        .post(app.url("/demo-idp/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let callback = to_callback.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let page = mallory.visit(&callback).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("jiném prohlížeči"));
    assert!(!mallory.has_cookie("urad-session"));
    // The callback was used up by that attempt: replaying it in the right browser fails too.
    let replay = alice.visit(&callback).await;
    assert_eq!(replay.status, 400);
    assert!(!alice.has_cookie("urad-session"));
    let db = app.store.open().await.unwrap();
    let kinds: Vec<String> = audit::recent(&db, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["sign_in_failed"]);
    // prompt=none without a session: login_required, at the client.
    let silent = alice
        .visit(&format!(
            "/oidc/authorize?response_type=code&client_id=portal&redirect_uri={}&scope=openid\
             &state=z&code_challenge={CHALLENGE}&code_challenge_method=S256&prompt=none",
            urad_identity::authorize::encode(&format!("{}/ucet/navrat", app.base))
        ))
        .await;
    assert!(
        silent.url.contains("error=login_required"),
        "{}",
        silent.url
    );
    // A bad request from a client that cannot be trusted is an error page, not a redirect.
    let page = alice
        .visit("/oidc/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2F")
        .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("není v identitní bráně registrována"));
    // Nor is a sign-out sent to an address the client did not register.
    let page = alice
        .visit(
            "/oidc/logout?client_id=portal&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F",
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(page.url.starts_with(&app.base));
}

crate::for_both_backends!(
    first_sign_ins_at_once_make_one_person,
    abandoned_sign_ins_are_swept
);

async fn first_sign_ins_at_once_make_one_person(backend: crate::harness::Backend) {
    let (db, _dir) = crate::identity::open(backend).await;
    let login = urad_identity::sessions::UpstreamLogin {
        upstream: "demo".into(),
        subject: "demo-new".into(),
        link_key: Some("verified-id:1".into()),
        loa: Loa::High,
        amr: vec!["sc".into()],
        claims: serde_json::json!({}),
        id_token: None,
    };
    let clock = urad_core::SystemClock;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (db, login) = (db.clone(), login.clone());
            tokio::spawn(async move {
                urad_identity::sessions::resolve_person(&db, &urad_core::SystemClock, &login).await
            })
        })
        .collect();
    let mut people = Vec::new();
    for t in tasks {
        people.push(
            t.await
                .unwrap()
                .expect("no error under concurrent first sign-ins"),
        );
    }
    people.dedup();
    assert_eq!(people.len(), 1, "{people:?}");
    let again = urad_identity::sessions::resolve_person(&db, &clock, &login)
        .await
        .unwrap();
    assert_eq!(again, people[0]);
    let linked = urad_identity::sessions::linked_logins(&db, &people[0])
        .await
        .unwrap();
    assert_eq!(linked.len(), 1);
}

async fn abandoned_sign_ins_are_swept(backend: crate::harness::Backend) {
    let (db, _dir) = crate::identity::open(backend).await;
    let clock = urad_core::ManualClock::at(1_800_000_000);
    let params: urad_identity::authorize::Params =
        [("client_id".to_owned(), "x".to_owned())].into();
    let id = urad_identity::signin::park(&db, &clock, &params, "browser", None)
        .await
        .unwrap();
    let found = urad_identity::signin::find(&db, &clock, &id)
        .await
        .unwrap()
        .unwrap();
    assert!(found.belongs_to(Some("browser")) && !found.belongs_to(Some("other")));
    // A portal sign-in that was never finished expires too.
    urad_store::sqlx::query(
        "INSERT INTO portal_session (token_sha256, csrf, created_at, expires_at) VALUES ('t', 'c', $1, $2)",
    )
    .bind(1_800_000_000_i64)
    .bind(1_800_000_000_i64 + 60)
    .execute(db.writer())
    .await
    .unwrap();
    assert_eq!(urad_identity::signin::sweep(&db, &clock).await.unwrap(), 0);
    clock.advance(urad_identity::signin::PENDING_TTL_SECS);
    assert!(urad_identity::signin::find(&db, &clock, &id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(urad_identity::signin::sweep(&db, &clock).await.unwrap(), 2);
}

async fn another_device_is_signed_out_from_my_account(app: TestApp) {
    let mut phone = Browser::new(&app.base);
    let demo = phone.visit("/ucet/prihlasit").await;
    phone.demo_sign_in(&demo, "karel-dvorak", "high").await;
    let mut laptop = Browser::new(&app.base);
    let demo = laptop.visit("/ucet/prihlasit").await;
    let account = laptop.demo_sign_in(&demo, "karel-dvorak", "high").await;
    // The laptop lists both sessions and can end the other one (only that one has a button).
    assert_eq!(account.body.matches("/ucet/relace/ukoncit").count(), 1);
    let csrf = hidden(&account.body, "csrf");
    let sid = hidden(&account.body, "sid");
    // Not without the CSRF token, and not someone else's session.
    let forged = laptop
        .submit(
            "/ucet/relace/ukoncit",
            &[("csrf".into(), "x".into()), ("sid".into(), sid.clone())],
        )
        .await;
    assert_eq!(forged.status, 403);
    let mut stranger = Browser::new(&app.base);
    let demo = stranger.visit("/ucet/prihlasit").await;
    let theirs = stranger.demo_sign_in(&demo, "petr-svoboda", "low").await;
    let refused = stranger
        .submit(
            "/ucet/relace/ukoncit",
            &[
                ("csrf".into(), hidden(&theirs.body, "csrf")),
                ("sid".into(), sid.clone()),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(phone.visit("/ucet").await.body.contains("id=\"identity\""));
    let after = laptop
        .submit(
            "/ucet/relace/ukoncit",
            &[("csrf".into(), csrf), ("sid".into(), sid)],
        )
        .await;
    assert!(after.url.ends_with("/ucet"));
    assert!(
        !after.body.contains("/ucet/relace/ukoncit"),
        "one session left"
    );
    // The phone is signed out; the laptop is not.
    assert!(phone
        .visit("/ucet")
        .await
        .body
        .contains("id=\"account-sign-in\""));
    assert!(laptop.visit("/ucet").await.body.contains("id=\"identity\""));
}
