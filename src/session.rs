//! One invocation's use of the Okta credential: the token and the deadline every call carries,
//! and the one fresh read of the secret (it may have been rotated) after Okta says 401.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::okta::{Call, OktaError};
use crate::secret::{SecretSource, TokenCache};

/// Time a read and a write take at worst, kept free before the deadline.
const WRITE_ROUND: Duration = Duration::from_secs(3);

/// One invocation's use of the credential: on Okta's 401 the secret is read again once (it
/// may have been rotated) and the call made once more.
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
                tracing::info!("okta refused the token, reading the secret again");
                self.refreshed = true;
                self.call.token = self.tokens.refresh(&self.call.token).await?;
                call(self.call.clone()).await.map_err(Error::from)
            }
            result => result.map_err(Error::from),
        }
    }
}
