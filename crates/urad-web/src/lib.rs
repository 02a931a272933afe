//! The only crate that speaks HTTP: pages, the JSON API, static assets and the operations
//! endpoints, with the middleware every response goes through.

mod account;
mod api;
mod applicant_cases;
mod assets;
mod back_office;
mod bearer_cache;
mod cache;
mod demo_idp;
mod error;
mod filing_api;
mod form_pages;
pub mod i18n;
mod notification_settings;
mod oidc;
mod ops;
mod pages;
pub mod rate_limit;
mod receipt_downloads;
mod receipt_log;
mod signin;
mod tsa;

use axum::http::{header, HeaderName, HeaderValue};
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use urad_catalog::Catalog;
use urad_core::Clock;
use urad_store::Db;

pub use account::register as register_portal_client;
pub use api::openapi_json;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub catalog: Arc<Catalog>,
    /// Every version of every online form (`content/forms/`).
    pub forms: Arc<urad_forms::Forms>,
    pub db: Db,
    /// This gateway's issuer identifier: the public origin of the portal.
    pub issuer: String,
    pub clock: Arc<dyn Clock>,
    /// The identity providers the gateway brokers, in the order the sign-in page lists them.
    pub upstreams: Vec<Arc<urad_identity::upstream::Upstream>>,
    /// For calls to upstreams and back-channel logout.
    pub http: reqwest::Client,
    /// Rendered answers of the catalogue routes; valid as long as `catalog` is.
    pages: cache::PageCache,
    /// Per-IP request and failure counts of the identity gateway's endpoints.
    pub rate_limits: rate_limit::Limits,
    /// The gateway's signing keys, read from the database every `--cache-secs`.
    pub keyring: urad_identity::keys::Keyring,
    /// Registered clients, read from the database every `--cache-secs`.
    pub clients: urad_identity::clients::ClientCache,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The demo identity provider's signing key, which never changes once made.
    pub demo_idp_key: tokio::sync::OnceCell<urad_identity::jose::EcKey>,
    /// The receipt log as this process serves it: the office's receipt key and the tree.
    pub receipt_log: urad_filing::receipt_log::ReceiptLog,
    /// Where attachments are kept and the limits on them (`urad_filing::attachments`).
    pub attachments: Option<urad_filing::attachments::Attachments>,
    /// Access tokens already verified: their claims (`bearer_cache`).
    pub(crate) bearers: bearer_cache::BearerCache,
    /// The back office's agendas and workflows (`urad_cases`); its pages answer 503 without.
    pub back_office: Option<Arc<urad_cases::agenda::BackOffice>>,
    /// The templates of notices and e-mails (`content/notifications/`); none are sent without.
    pub notifications: Option<Arc<urad_notify::templates::Templates>>,
    /// The grant programmes (`content/grants/`): a form of a programme's service is received
    /// only while one of its calls is open, and counted in that call.
    pub grants: Arc<Vec<urad_grants::Programme>>,
}

/// A grant application sent while none of its programme's calls receives applications.
#[derive(Clone, Debug)]
pub struct CallNotOpen {
    /// The call that opens next, or else the one that closed last.
    pub nearest: Option<Box<urad_grants::Call>>,
    /// Whether `nearest` is yet to open.
    pub upcoming: bool,
}

impl CallNotOpen {
    /// What the applicant reads (reason `outside_call_window`).
    pub fn message(&self, lang: urad_core::Lang) -> String {
        use urad_core::Lang;
        let when = |t: jiff::Timestamp| crate::form_pages::prague_time(t.as_second(), lang);
        match (&self.nearest, lang) {
            (Some(c), Lang::Cs) if self.upcoming => format!(
                "Výzva „{}“ zatím žádosti nepřijímá: přijímá je od {} do {}. Koncept žádosti zůstává uložen.",
                c.name.cs, when(c.opens_at), when(c.closes_at)
            ),
            (Some(c), Lang::En) if self.upcoming => format!(
                "The call “{}” does not receive applications yet: it receives them from {} until {}. Your draft stays saved.",
                c.name.en, when(c.opens_at), when(c.closes_at)
            ),
            (Some(c), Lang::Cs) => format!(
                "Výzva „{}“ už žádosti nepřijímá: přijímala je do {}. Koncept žádosti zůstává uložen.",
                c.name.cs, when(c.closes_at)
            ),
            (Some(c), Lang::En) => format!(
                "The call “{}” no longer receives applications: it received them until {}. Your draft stays saved.",
                c.name.en, when(c.closes_at)
            ),
            (None, Lang::Cs) => "Žádná výzva tohoto programu teď žádosti nepřijímá. Koncept žádosti zůstává uložen.".into(),
            (None, Lang::En) => "No call of this programme receives applications now. Your draft stays saved.".into(),
        }
    }
}

impl AppState {
    pub fn new(
        catalog: Catalog,
        db: Db,
        issuer: String,
        clock: Arc<dyn Clock>,
        upstreams: Vec<Arc<urad_identity::upstream::Upstream>>,
        http: reqwest::Client,
    ) -> AppState {
        AppState(Arc::new(Inner {
            catalog: Arc::new(catalog),
            forms: Arc::new(urad_forms::Forms::default()),
            db,
            issuer,
            clock,
            upstreams,
            http,
            pages: cache::PageCache::new(),
            rate_limits: rate_limit::Limits::new(rate_limit::DEFAULT_PER_IP),
            keyring: urad_identity::keys::Keyring::new(DEFAULT_CACHE_SECS),
            clients: urad_identity::clients::ClientCache::new(DEFAULT_CACHE_SECS),
            trusted_proxies: Vec::new(),
            demo_idp_key: tokio::sync::OnceCell::new(),
            receipt_log: urad_filing::receipt_log::ReceiptLog::new(),
            attachments: None,
            bearers: bearer_cache::BearerCache::new(),
            back_office: None,
            notifications: None,
            grants: Arc::new(Vec::new()),
        }))
    }

    /// Sets the grant programmes. Call before the state is shared.
    ///
    /// # Panics
    /// When the state has already been cloned (the router holds clones).
    pub fn with_grants(mut self, programmes: Arc<Vec<urad_grants::Programme>>) -> AppState {
        Arc::get_mut(&mut self.0)
            .expect("the grant programmes are set before the state is shared")
            .grants = programmes;
        self
    }

    /// What a submission of `form` sent at `now` is counted in: the open call of the grant
    /// programme whose service the form belongs to (`call:<id>`), or else the form itself
    /// (`form:<id>`). A programme's form outside every call's window is refused.
    pub fn submission_scope(
        &self,
        form: &urad_forms::FormDefinition,
        now: i64,
    ) -> Result<String, CallNotOpen> {
        let service = form.ui.service.as_deref();
        let Some(programme) = self
            .grants
            .iter()
            .find(|p| Some(p.service.as_str()) == service)
        else {
            return Ok(format!("form:{}", form.id));
        };
        let now = jiff::Timestamp::from_second(now).unwrap_or_default();
        if let Some(call) = programme.calls.iter().find(|c| c.receives_at(now)) {
            return Ok(urad_grants::robot::scope_of(call));
        }
        let next = programme
            .calls
            .iter()
            .filter(|c| c.opens_at > now)
            .min_by_key(|c| c.opens_at);
        let last = programme.calls.iter().max_by_key(|c| c.closes_at);
        Err(CallNotOpen {
            upcoming: next.is_some(),
            nearest: next.or(last).cloned().map(Box::new),
        })
    }

    /// Sets the blob store and limits of attachments. Call before the state is shared.
    ///
    /// # Panics
    /// When the state has already been cloned (the router holds clones).
    pub fn with_attachments(
        mut self,
        attachments: urad_filing::attachments::Attachments,
    ) -> AppState {
        Arc::get_mut(&mut self.0)
            .expect("attachments are set before the state is shared")
            .attachments = Some(attachments);
        self
    }

    /// How long signing keys and clients read from the database are used before they are
    /// read again (0: for every request). Call before the state is shared.
    ///
    /// # Panics
    /// When the state has already been cloned (the router holds clones).
    pub fn with_cache_secs(mut self, secs: u64) -> AppState {
        let inner = Arc::get_mut(&mut self.0).expect("caches are set before the state is shared");
        inner.keyring = urad_identity::keys::Keyring::new(secs);
        inner.clients = urad_identity::clients::ClientCache::new(secs);
        self
    }

    /// Sets the back office's agendas and workflows. Call before the state is shared.
    ///
    /// # Panics
    /// When the state has already been cloned (the router holds clones).
    pub fn with_back_office(mut self, office: Arc<urad_cases::agenda::BackOffice>) -> AppState {
        Arc::get_mut(&mut self.0)
            .expect("the back office is set before the state is shared")
            .back_office = Some(office);
        self
    }

    /// Sets the templates of notices and e-mails. Call before the state is shared.
    ///
    /// # Panics
    /// When the state has already been cloned (the router holds clones).
    pub fn with_notifications(
        mut self,
        templates: Arc<urad_notify::templates::Templates>,
    ) -> AppState {
        Arc::get_mut(&mut self.0)
            .expect("notifications are set before the state is shared")
            .notifications = Some(templates);
        self
    }

    /// Sets the online forms the portal serves. Call before the state is shared.
    ///
    /// # Panics
    /// When the state has already been cloned (the router holds clones).
    pub fn with_forms(mut self, forms: urad_forms::Forms) -> AppState {
        Arc::get_mut(&mut self.0)
            .expect("forms are set before the state is shared")
            .forms = Arc::new(forms);
        self
    }

    /// Sets the reverse proxies whose `X-Forwarded-For` is believed for the client's address
    /// (rate limits, audit). Call before the state is shared.
    ///
    /// # Panics
    /// When the state has already been cloned (the router holds clones).
    pub fn with_trusted_proxies(mut self, proxies: Vec<ipnet::IpNet>) -> AppState {
        Arc::get_mut(&mut self.0)
            .expect("trusted proxies are set before the state is shared")
            .trusted_proxies = proxies;
        self
    }

    /// The limits on attachments (the office's defaults when no blob store is configured).
    pub fn attachment_limits(&self) -> urad_filing::attachments::Limits {
        self.attachments
            .as_ref()
            .map(|a| a.limits)
            .unwrap_or_default()
    }

    /// The gateway's signing keys (see [`urad_identity::keys::Keyring`]).
    pub async fn keys(
        &self,
    ) -> Result<Arc<urad_identity::keys::KeySet>, urad_identity::keys::KeyError> {
        self.keyring.get(&self.db, self.clock.as_ref()).await
    }

    /// The demo identity provider's signing key, read (or made) once.
    pub async fn demo_idp_key(&self) -> Result<&urad_identity::jose::EcKey, sqlx::Error> {
        self.demo_idp_key
            .get_or_try_init(|| urad_identity::demo_idp::key(&self.db, self.clock.as_ref()))
            .await
    }

    /// Sets the overall limit of requests a second per IP on the login and token endpoints
    /// (bursts of twice that; 0 turns it off). Call before the state is shared.
    ///
    /// # Panics
    /// When the state has already been cloned (the router holds clones).
    pub fn with_rate_limit_per_ip(mut self, per_ip: u32) -> AppState {
        Arc::get_mut(&mut self.0)
            .expect("rate limits are set before the state is shared")
            .rate_limits = rate_limit::Limits::new(per_ip);
        self
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Largest request body accepted, but for uploads of attachments (see [`router`]).
const BODY_LIMIT: usize = 64 * 1024;
/// How long a process uses the signing keys and client registrations it read before reading
/// them again (`--cache-secs`).
pub const DEFAULT_CACHE_SECS: u64 = 30;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Scripts, styles, images and fonts only from our own origin; no inline code; never framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; \
    form-action 'self'; frame-ancestors 'none'";

/// The whole application as one router.
pub fn router(state: AppState) -> Router {
    ops::install_metrics_recorder();
    let security_headers = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ),
    ];
    let catalogue =
        pages::routes()
            .merge(api::routes())
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                cache::serve_cached,
            ));
    let mut app = Router::new()
        .merge(catalogue)
        .merge(oidc::routes(&state))
        .merge(rate_limit::limit_per_ip(
            signin::routes().merge(demo_idp::routes()),
            &state,
        ))
        .merge(account::routes())
        .merge(filing_api::routes())
        .merge(receipt_log::routes())
        .merge(tsa::routes())
        .merge(form_pages::routes())
        .merge(receipt_downloads::routes())
        .merge(back_office::routes())
        .merge(notification_settings::routes())
        .merge(applicant_cases::routes())
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/assets/{*path}", get(assets::serve))
        .fallback(pages::not_found)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        // Bodies that are files: their limits are the attachments' own, checked as the
        // bytes stream in (`urad_filing::attachments`).
        .merge(filing_api::upload_routes())
        .merge(form_pages::upload_routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            account::identify,
        ))
        // Outermost of the app's own layers: the rate limits and the audit log all key on
        // the address it finds.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::resolve_client_ip,
        ))
        .with_state(state)
        .layer(axum::middleware::from_fn(ops::record_metrics))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(CatchPanicLayer::custom(error::panic_response));
    for (name, value) in security_headers {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    app.layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(ops::request_span))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Serves until `shutdown` completes, then lets requests in flight finish. Each request
/// carries its TCP peer's address (`ConnectInfo`), which the rate limits key on.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
