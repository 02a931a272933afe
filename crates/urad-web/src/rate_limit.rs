//! Rate limits per client IP for the identity gateway's endpoints:
//!
//! - an overall limit per IP (`urad serve --rate-limit-per-ip N`: N requests a second with
//!   bursts of 2N; 0 turns it off), a GCRA on the `governor` crate;
//! - a limit on failures: after [`FAILURES_PER_WINDOW`] failed client authentications or
//!   refused grants within [`FAILURE_WINDOW`], the IP's further token and revocation requests
//!   get `429` until that window ends. This is a fixed window rather than a GCRA because the
//!   rule is one ("for the rest of the minute"), and because only the handler's answer tells
//!   whether a request failed, so the count is taken after the request, not before.
//!
//! A `429` carries `Retry-After`, `Cache-Control: no-store` and an OAuth error body
//! `{"error": "slow_down"}`; the first one of an IP in a window is written to the audit log.
//!
//! The key is the TCP peer's address (`ConnectInfo<SocketAddr>`, set by [`crate::serve`]).
//! Behind a reverse proxy that is the proxy: raise the limit there, or give the proxy its own
//! limits. Without `ConnectInfo` (a router driven directly, as in unit tests) every request
//! shares one key, the unspecified address: limited together rather than not at all.
//!
//! Memory stays bounded: idle IPs are dropped once a minute (`retain_recent` for the GCRA
//! state, ended windows for the failure counts), and at most [`MAX_TRACKED_IPS`] failing IPs
//! are tracked at once.
//!
//! # Putting the limits on other routes
//!
//! [`limit_per_ip`] wraps every route already added to a router with the overall limit; the
//! sign-in routes get it like this (inside this crate):
//!
//! ```ignore
//! let sign_in = Router::new()
//!     .route("/oidc/authorize", get(authorize))
//!     .route("/oidc/callback/{upstream}", get(callback))
//!     .nest("/demo-idp", demo_idp::routes());
//! let sign_in = crate::rate_limit::limit_per_ip(sign_in, &state);
//! router.merge(sign_in)
//! ```
//!
//! [`limit_client_requests`] adds the failure limit on top, for endpoints where clients
//! authenticate. A handler marks a failure by answering with the [`Failure`] extension in its
//! response (the token endpoint's `invalid_client` and `invalid_grant` answers do), and can
//! learn the client's address with the [`ClientIp`] extractor.

use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use urad_identity::audit;

/// Requests a second per IP when `--rate-limit-per-ip` is not given.
pub const DEFAULT_PER_IP: u32 = 100;
/// Failed client authentications and refused grants an IP may have within a window.
pub const FAILURES_PER_WINDOW: u32 = 20;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Most IPs whose failures are counted at once; beyond it new IPs are not counted (and a
/// warning is logged) rather than memory growing without end.
pub const MAX_TRACKED_IPS: usize = 100_000;
/// How often idle IPs are forgotten.
const CLEANUP_EVERY: Duration = Duration::from_secs(60);

/// Marks a response as a failed client authentication or refused grant, counted by
/// [`limit_client_requests`].
#[derive(Clone, Copy, Debug)]
pub struct Failure;

/// The client's IP address: the TCP peer, when the server was started with connect info —
/// or, when that peer is a trusted reverse proxy (`--trusted-proxy`), the address the proxies
/// forwarded in `X-Forwarded-For` (see [`resolve_client_ip`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

/// The client's address as [`resolve_client_ip`] found it, for the extractor.
#[derive(Clone, Copy, Debug)]
struct Resolved(Option<IpAddr>);

/// The client behind `peer`: `peer` itself unless it is a trusted proxy; then, reading
/// `X-Forwarded-For` from the right (each proxy appends the address it was reached from),
/// the first address that is not a trusted proxy. Entries left of it could be written by the
/// client and are never believed; an unreadable entry stops the walk at the last trusted hop.
pub fn forwarded_client(peer: IpAddr, forwarded_for: &[&str], trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let entries = forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .rev();
    for entry in entries {
        match entry.parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            Err(_) => return client,
        }
    }
    client
}

/// Middleware: finds the client's address once per request (see [`forwarded_client`]).
pub async fn resolve_client_ip(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = match peer {
        Some(peer) if !state.trusted_proxies.is_empty() => {
            let headers: Vec<&str> = request
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            Some(forwarded_client(peer, &headers, &state.trusted_proxies))
        }
        other => other,
    };
    request.extensions_mut().insert(Resolved(ip));
    next.run(request).await
}

impl ClientIp {
    /// The address as text for the audit log.
    pub fn text(self) -> Option<String> {
        self.0.map(|ip| ip.to_string())
    }

    fn key(self) -> IpAddr {
        self.0.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(Resolved(ip)) = parts.extensions.get::<Resolved>() {
            return Ok(ClientIp(*ip));
        }
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Per-IP state of the failure limit.
struct Window {
    started: Instant,
    failures: u32,
    /// Whether this window's refusal was already written to the audit log.
    reported: bool,
}

/// The limits' state, one per application (so tests' servers do not share it).
pub struct Limits {
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    windows: Mutex<HashMap<IpAddr, Window>>,
    /// When the overall limit last refused each IP that it refused, for reporting it once a
    /// window.
    reported_flood: Mutex<HashMap<IpAddr, Instant>>,
    last_cleanup: Mutex<Instant>,
}

impl Limits {
    /// `per_ip` requests a second per IP with bursts of twice that; 0 turns the overall limit
    /// off (the failure limit stays).
    pub fn new(per_ip: u32) -> Limits {
        let per_ip = NonZeroU32::new(per_ip).map(|n| {
            let burst = n.saturating_mul(NonZeroU32::new(2).expect("2 is not zero"));
            RateLimiter::keyed(Quota::per_second(n).allow_burst(burst))
        });
        Limits {
            per_ip,
            windows: Mutex::new(HashMap::new()),
            reported_flood: Mutex::new(HashMap::new()),
            last_cleanup: Mutex::new(Instant::now()),
        }
    }

    /// Forgets idle IPs, at most once a [`CLEANUP_EVERY`].
    fn cleanup_if_due(&self, now: Instant) {
        {
            let mut last = self.last_cleanup.lock().unwrap_or_else(|e| e.into_inner());
            if now.duration_since(*last) < CLEANUP_EVERY {
                return;
            }
            *last = now;
        }
        if let Some(limiter) = &self.per_ip {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let ended = |started: Instant| now.duration_since(started) >= FAILURE_WINDOW;
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.retain(|_, w| !ended(w.started));
        windows.shrink_to_fit();
        let mut flood = self
            .reported_flood
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        flood.retain(|_, at| !ended(*at));
        flood.shrink_to_fit();
    }

    /// `Err(wait)` when the overall limit refuses `ip` now; the `bool` says whether this is
    /// the first refusal of the IP in a window (to be reported).
    fn check_per_ip(&self, ip: IpAddr, now: Instant) -> Result<(), (Duration, bool)> {
        let Some(limiter) = &self.per_ip else {
            return Ok(());
        };
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut flood = self
                .reported_flood
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let first = flood
                .get(&ip)
                .is_none_or(|at| now.duration_since(*at) >= FAILURE_WINDOW);
            if first {
                flood.insert(ip, now);
            }
            (wait, first)
        })
    }

    /// `Some((wait, first))` while `ip` has used up its failures in the current window.
    fn blocked(&self, ip: IpAddr, now: Instant) -> Option<(Duration, bool)> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let w = windows.get_mut(&ip)?;
        let elapsed = now.duration_since(w.started);
        if w.failures < FAILURES_PER_WINDOW || elapsed >= FAILURE_WINDOW {
            return None;
        }
        let first = !w.reported;
        w.reported = true;
        Some((FAILURE_WINDOW - elapsed, first))
    }

    fn record_failure(&self, ip: IpAddr, now: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= MAX_TRACKED_IPS && !windows.contains_key(&ip) {
            windows.retain(|_, w| now.duration_since(w.started) < FAILURE_WINDOW);
            if windows.len() >= MAX_TRACKED_IPS {
                tracing::warn!(%ip, "too many failing IPs to count them all");
                return;
            }
        }
        let w = windows.entry(ip).or_insert(Window {
            started: now,
            failures: 0,
            reported: false,
        });
        if now.duration_since(w.started) >= FAILURE_WINDOW {
            *w = Window {
                started: now,
                failures: 0,
                reported: false,
            };
        }
        w.failures = w.failures.saturating_add(1);
    }
}

/// The `429` answer: an OAuth error body, never cached, with the seconds to wait.
fn too_many(wait: Duration) -> Response {
    // Round up: a client that waits the advertised seconds must then be let through.
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({
            "error": "slow_down",
            "error_description": format!("too many requests; retry after {secs} s"),
        })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    response
}

async fn report(state: &AppState, ip: ClientIp, path: &str, limit: &str) {
    tracing::warn!(ip = ?ip.0, path, limit, "rate limited");
    let ip_text = ip.text();
    let mut event = audit::Event::new(audit::Kind::RateLimited);
    event.ip = ip_text.as_deref();
    event.detail = serde_json::json!({ "path": path, "limit": limit });
    audit::record(&state.db, state.clock.as_ref(), event).await;
}

/// Middleware: the overall per-IP limit.
pub async fn per_ip(
    State(state): State<AppState>,
    ip: ClientIp,
    request: Request,
    next: Next,
) -> Response {
    let now = Instant::now();
    state.rate_limits.cleanup_if_due(now);
    if let Some(refused) = over_per_ip(&state, ip, request.uri().path(), now).await {
        return refused;
    }
    next.run(request).await
}

/// The `429` for an IP over the overall limit (reported once a window), if it is.
async fn over_per_ip(state: &AppState, ip: ClientIp, path: &str, now: Instant) -> Option<Response> {
    let (wait, first) = state.rate_limits.check_per_ip(ip.key(), now).err()?;
    if first {
        report(state, ip, path, "per_ip").await;
    }
    Some(too_many(wait))
}

/// Middleware: the failure limit, then the overall per-IP limit; counts the failures the
/// handler marks with [`Failure`].
pub async fn client_requests(
    State(state): State<AppState>,
    ip: ClientIp,
    request: Request,
    next: Next,
) -> Response {
    let limits = &state.rate_limits;
    let now = Instant::now();
    limits.cleanup_if_due(now);
    if let Some((wait, first)) = limits.blocked(ip.key(), now) {
        if first {
            report(&state, ip, request.uri().path(), "failures").await;
        }
        return too_many(wait);
    }
    if let Some(refused) = over_per_ip(&state, ip, request.uri().path(), now).await {
        return refused;
    }
    let response = next.run(request).await;
    if response.extensions().get::<Failure>().is_some() {
        limits.record_failure(ip.key(), Instant::now());
    }
    response
}

/// Puts the overall per-IP limit on every route already in `router` (login pages, userinfo).
pub(crate) fn limit_per_ip(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    router.route_layer(from_fn_with_state(state.clone(), per_ip))
}

/// Puts the failure limit and the per-IP limit on every route already in `router` (the
/// token and revocation endpoints, where clients authenticate).
pub(crate) fn limit_client_requests(
    router: Router<AppState>,
    state: &AppState,
) -> Router<AppState> {
    router.route_layer(from_fn_with_state(state.clone(), client_requests))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overall_limit_allows_bursts_of_twice_the_rate_per_ip() {
        let limits = Limits::new(5);
        let now = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        for _ in 0..10 {
            assert!(limits.check_per_ip(a, now).is_ok());
        }
        let (wait, first) = limits.check_per_ip(a, now).unwrap_err();
        assert!(first && wait <= Duration::from_millis(200), "{wait:?}");
        assert!(!limits.check_per_ip(a, now).unwrap_err().1, "reported once");
        assert!(
            limits.check_per_ip(b, now).is_ok(),
            "other IPs are not affected"
        );
        assert!(
            Limits::new(0).check_per_ip(a, now).is_ok(),
            "0 turns it off"
        );
    }

    #[test]
    fn failures_block_an_ip_for_the_rest_of_the_window() {
        let limits = Limits::new(DEFAULT_PER_IP);
        let start = Instant::now();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..FAILURES_PER_WINDOW - 1 {
            limits.record_failure(ip, start);
        }
        assert!(limits.blocked(ip, start).is_none());
        limits.record_failure(ip, start);
        let later = start + Duration::from_secs(20);
        let (wait, first) = limits.blocked(ip, later).unwrap();
        assert_eq!((wait, first), (Duration::from_secs(40), true));
        assert!(!limits.blocked(ip, later).unwrap().1);
        assert!(limits
            .blocked("192.0.2.8".parse().unwrap(), later)
            .is_none());
        assert!(limits.blocked(ip, start + FAILURE_WINDOW).is_none());
        // A new window starts from zero.
        limits.record_failure(ip, start + FAILURE_WINDOW);
        assert!(limits.blocked(ip, start + FAILURE_WINDOW).is_none());
    }

    #[test]
    fn idle_ips_are_forgotten() {
        let limits = Limits::new(DEFAULT_PER_IP);
        let start = Instant::now();
        for i in 0..50u8 {
            limits.record_failure(IpAddr::V4(Ipv4Addr::new(192, 0, 2, i)), start);
        }
        assert_eq!(limits.windows.lock().unwrap().len(), 50);
        limits.cleanup_if_due(start + FAILURE_WINDOW + CLEANUP_EVERY);
        assert!(limits.windows.lock().unwrap().is_empty());
    }

    #[test]
    fn answers_429_with_retry_after_and_an_oauth_error() {
        let r = too_many(Duration::from_millis(1500));
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
    }

    #[test]
    fn only_trusted_proxies_are_believed_and_only_for_what_they_appended() {
        let trusted: Vec<ipnet::IpNet> = vec![
            "10.0.0.0/8".parse().unwrap(),
            "192.0.2.7/32".parse().unwrap(),
        ];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let client = |peer: &str, xff: &[&str]| forwarded_client(ip(peer), xff, &trusted);
        // No proxy in front: the header is the client's own claim and ignored.
        assert_eq!(client("203.0.113.9", &["198.51.100.1"]), ip("203.0.113.9"));
        // One trusted proxy: the address it appended.
        assert_eq!(client("10.1.2.3", &["198.51.100.1"]), ip("198.51.100.1"));
        // Two proxies; the client's forged entries left of the real one are ignored.
        assert_eq!(
            client("10.1.2.3", &["6.6.6.6, 198.51.100.1, 192.0.2.7"]),
            ip("198.51.100.1")
        );
        // Several header lines count as one list, in order.
        assert_eq!(
            client("10.1.2.3", &["6.6.6.6", "198.51.100.1", "10.9.9.9"]),
            ip("198.51.100.1")
        );
        // IPv6, and a proxy that forwarded nothing: the proxy itself.
        assert_eq!(client("10.1.2.3", &["2001:db8::5"]), ip("2001:db8::5"));
        assert_eq!(client("10.1.2.3", &[]), ip("10.1.2.3"));
        // Garbage stops the walk at the last trusted hop rather than believing what is left.
        assert_eq!(
            client("10.1.2.3", &["198.51.100.1, unknown"]),
            ip("10.1.2.3")
        );
        // Nothing trusted: always the peer.
        assert_eq!(
            forwarded_client(ip("10.1.2.3"), &["198.51.100.1"], &[]),
            ip("10.1.2.3")
        );
    }

    #[tokio::test]
    async fn without_connect_info_the_ip_is_unknown_and_shared() {
        let mut parts = axum::http::Request::new(()).into_parts().0;
        let ip = ClientIp::from_request_parts(&mut parts, &()).await.unwrap();
        assert_eq!(ip, ClientIp(None));
        assert_eq!(ip.key(), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        parts.extensions.insert(ConnectInfo(
            "198.51.100.4:5000".parse::<SocketAddr>().unwrap(),
        ));
        let ip = ClientIp::from_request_parts(&mut parts, &()).await.unwrap();
        assert_eq!(ip.text().as_deref(), Some("198.51.100.4"));
    }
}
