//! One invocation's use of the Okta credential: the credential and the deadline every call
//! carries, and the one renewal of the credential after Okta says 401.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::okta::{Call, OktaError};
use crate::secret::{SecretSource, TokenCache};

/// Time a read and a write take at worst, kept free before the deadline.
const WRITE_ROUND: Duration = Duration::from_secs(3);

/// One invocation's use of the credential: on Okta's 401 the credential is got again once (an
/// API token by reading the secret, which may have been rotated; an access token by asking Okta
/// for a new one) and the call made once more.
pub(crate) struct Session<'a, S> {
    tokens: &'a TokenCache<S>,
    call: Call,
    refreshed: bool,
}

impl<'a, S: SecretSource> Session<'a, S> {
    pub(crate) async fn start(
        tokens: &'a TokenCache<S>,
        deadline: Option<Instant>,
    ) -> Result<Self, Error> {
        Ok(Self {
            tokens,
            call: Call {
                token: tokens.token().await?,
                deadline,
            },
            refreshed: false,
        })
    }

    /// Whether waiting `delay` still leaves time for a round of calls.
    pub(crate) fn fits(&self, delay: Duration) -> bool {
        self.call
            .deadline
            .is_none_or(|deadline| Instant::now() + delay + WRITE_ROUND < deadline)
    }

    pub(crate) async fn call<T, F, Fut>(&mut self, call: F) -> Result<T, Error>
    where
        F: Fn(Call) -> Fut,
        Fut: Future<Output = Result<T, OktaError>>,
    {
        match call(self.call.clone()).await {
            Err(err) if err.is_unauthorized() && !self.refreshed => {
                tracing::info!("okta refused the credential, getting it again");
                self.refreshed = true;
                self.call.token = self.tokens.refresh(&self.call.token).await?;
                call(self.call.clone()).await.map_err(Error::from)
            }
            result => result.map_err(Error::from),
        }
    }
}
