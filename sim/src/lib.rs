//! A stateful simulator of the Okta Management API endpoints okta-role-sync uses: groups,
//! apps and app-group assignments, per-org tokens, scaled clocks, rate limits, latency,
//! scheduled faults and a request log, plus a `/__sim/` control surface for tests and demos.

mod api;
mod clock;
mod control;
mod error;
mod fault;
mod oauth;
mod org;
mod ratelimit;
mod search;
mod seed;
mod server;
mod stamp;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use axum::Router;
use axum::routing::{any, get, post};

pub use crate::clock::{Clock, SystemClock};
pub use crate::oauth::TokenRequest;
pub use crate::org::{BucketName, RecordedRequest};
pub use crate::seed::{
    AppSeed, AppStatus, AssignmentSeed, GroupSeed, GroupType, OrgSeed, RateLimits, SeedError,
    ServiceAppSeed,
};

use crate::org::Org;

/// The simulator: any number of orgs, each selected by its SSWS tokens, its service apps'
/// client ids or the access tokens it issued. Cloning shares state.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
}

struct Shared {
    clock: Arc<dyn Clock>,
    orgs: Mutex<Orgs>,
}

#[derive(Default)]
pub(crate) struct Orgs {
    list: Vec<Org>,
    by_token: HashMap<String, usize>,
    by_client_id: HashMap<String, usize>,
    by_access_token: HashMap<String, usize>,
}

impl Orgs {
    /// The org of a service app.
    pub(crate) fn find_client_mut(&mut self, client_id: &str) -> Option<(usize, &mut Org)> {
        let index = *self.by_client_id.get(client_id)?;
        self.list.get_mut(index).map(|org| (index, org))
    }

    /// The org that issued an access token (expired or not).
    pub(crate) fn find_bearer_mut(&mut self, token: &str) -> Option<(usize, &mut Org)> {
        let index = *self.by_access_token.get(token)?;
        self.list.get_mut(index).map(|org| (index, org))
    }

    pub(crate) fn index_access_token(&mut self, token: &str, index: usize) {
        self.by_access_token.insert(token.to_string(), index);
    }

    pub(crate) fn find_mut(&mut self, token: &str) -> Option<(usize, &mut Org)> {
        let index = *self.by_token.get(token)?;
        self.list.get_mut(index).map(|org| (index, org))
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut Org> {
        self.list.get_mut(index)
    }
}

impl Default for Simulator {
    fn default() -> Self {
        Self::new()
    }
}

impl Simulator {
    /// A simulator with no orgs, on the real clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// A simulator with no orgs that reads the time from `clock`; each org's time starts at
    /// this clock's time when the org is created and runs `clockScale` times as fast.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Simulator {
            shared: Arc::new(Shared {
                clock,
                orgs: Mutex::new(Orgs::default()),
            }),
        }
    }

    pub(crate) fn now(&self) -> SystemTime {
        self.shared.clock.now()
    }

    pub(crate) fn orgs(&self) -> MutexGuard<'_, Orgs> {
        self.shared
            .orgs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds an org. Its tokens must not authenticate any other org.
    pub fn add_org(&self, seed: OrgSeed) -> Result<(), SeedError> {
        let org = Org::from_seed(seed, self.now())?;
        let mut orgs = self.orgs();
        if let Some(token) = org.tokens.iter().find(|t| orgs.by_token.contains_key(*t)) {
            return Err(SeedError::TokenInUse(token.clone()));
        }
        if let Some(id) = org
            .oauth
            .apps
            .keys()
            .find(|id| orgs.by_client_id.contains_key(*id))
        {
            return Err(SeedError::ClientIdInUse(id.clone()));
        }
        let index = orgs.list.len();
        for token in &org.tokens {
            orgs.by_token.insert(token.clone(), index);
        }
        for id in org.oauth.apps.keys() {
            orgs.by_client_id.insert(id.clone(), index);
        }
        orgs.list.push(org);
        Ok(())
    }

    /// The state of the org `token` selects, in the seed format.
    pub fn org_state(&self, token: &str) -> Option<OrgSeed> {
        self.orgs().find_mut(token).map(|(_, org)| org.to_seed())
    }

    /// The Okta API requests the org `token` selects has received, in order.
    pub fn requests(&self, token: &str) -> Option<Vec<RecordedRequest>> {
        self.orgs()
            .find_mut(token)
            .map(|(_, org)| org.requests.clone())
    }

    /// The token endpoint requests of the org `token` selects, in order.
    pub fn token_requests(&self, token: &str) -> Option<Vec<TokenRequest>> {
        self.orgs()
            .find_mut(token)
            .map(|(_, org)| org.oauth.requests.clone())
    }

    pub(crate) fn record_token_request(&self, client_id: &str, status: u16, error: Option<String>) {
        if let Some((_, org)) = self.orgs().find_client_mut(client_id) {
            org.oauth.requests.push(TokenRequest {
                client_id: client_id.to_string(),
                status,
                error,
            });
        }
    }

    /// The whole HTTP surface: Okta's API under `/api/v1` and the control routes under `/__sim`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/__sim/orgs", post(control::create_org))
            .route("/__sim/state", get(control::state))
            .route("/__sim/clock", get(control::clock))
            .route("/__sim/stats", get(control::stats))
            .route(
                "/__sim/faults",
                get(control::faults)
                    .post(control::add_faults)
                    .delete(control::clear_faults),
            )
            .route(
                "/__sim/requests",
                get(control::requests).delete(control::clear_requests),
            )
            .route("/__sim/apps/{app_id}/roles", post(control::import_role))
            .route("/__sim/groups", post(control::create_group))
            .route("/__sim/groups/{group_id}/index", post(control::index_group))
            .route(
                "/__sim/oauth/token-requests",
                get(control::token_requests).delete(control::clear_token_requests),
            )
            .route("/__sim/oauth/expire-tokens", post(control::expire_tokens))
            .route("/oauth2/v1/token", post(oauth::token))
            .route("/api/v1", any(api::entry))
            .route("/api/v1/{*rest}", any(api::entry))
            .fallback(control::not_found)
            .method_not_allowed_fallback(control::method_not_allowed)
            .with_state(self.clone())
    }

    /// Serves the router on `listener` until the future is dropped. Only this way of serving
    /// can close a connection without an answer (a fault's `drop`).
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        server::serve(self.router(), listener).await
    }
}

/// Serves `sim` on 127.0.0.1 (a free port) from a thread with its own tokio runtime, so it
/// outlives any one test's runtime, and returns the address; it is listening on return.
///
/// # Panics
///
/// When no local port can be bound or the thread or runtime cannot be started.
pub fn spawn_in_background(sim: Simulator) -> SocketAddr {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").expect("okta-sim: cannot bind 127.0.0.1:0");
    listener
        .set_nonblocking(true)
        .expect("okta-sim: cannot make the listener non-blocking");
    let addr = listener
        .local_addr()
        .expect("okta-sim: the listener has no local address");
    std::thread::Builder::new()
        .name(format!("okta-sim-{}", addr.port()))
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("okta-sim: cannot start a tokio runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)
                    .expect("okta-sim: cannot register the listener");
                if let Err(e) = sim.serve(listener).await {
                    eprintln!("okta-sim on {addr} stopped: {e}");
                }
            });
        })
        .expect("okta-sim: cannot start the server thread");
    addr
}
