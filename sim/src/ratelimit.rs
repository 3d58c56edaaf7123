//! Rate limiting: Okta-style fixed one-minute buckets shared by an org, of which any one token
//! may spend only its share.
//!
//! Okta counts requests per bucket in windows that start on the minute (in the org's time) and
//! tells clients when the current window ends (`X-Rate-Limit-Reset`, epoch seconds). A token
//! may use `tokenSharePercent` of a bucket (50 % by default), so two tokens can spend one
//! org's bucket together while neither can alone.

use std::collections::HashMap;
use std::time::SystemTime;

use crate::clock::epoch_secs;

/// Length of one rate-limit window.
pub const WINDOW_SECS: u64 = 60;

/// What the rate-limit headers say after a request was counted (or refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// The token's limit: its share of the bucket.
    pub limit: u32,
    /// What the token may still spend in this window: the smaller of its own remaining share
    /// and what the org has left.
    pub remaining: u32,
    /// Epoch seconds at which the current window ends.
    pub reset: u64,
}

impl Quota {
    /// The quota of a window nothing has been counted in.
    pub fn fresh(limit: u32, now: SystemTime) -> Self {
        Quota {
            limit,
            remaining: limit,
            reset: window_start(epoch_secs(now)) + WINDOW_SECS,
        }
    }
}

fn window_start(secs: u64) -> u64 {
    secs - secs % WINDOW_SECS
}

/// floor(`limit` × `percent` / 100).
pub fn share(limit: u32, percent: u32) -> u32 {
    let share = u64::from(limit) * u64::from(percent) / 100;
    u32::try_from(share).unwrap_or(u32::MAX)
}

/// One bucket of one org: a request budget per fixed one-minute window, and what each token
/// has spent of it.
#[derive(Debug, Clone)]
pub struct Bucket {
    limit: u32,
    token_limit: u32,
    window: u64,
    used: u32,
    used_by: HashMap<String, u32>,
    requests: u64,
    throttled: u64,
}

impl Bucket {
    /// A bucket allowing `limit` requests a minute, `token_percent` % of them to any one token.
    pub fn new(limit: u32, token_percent: u32) -> Self {
        Bucket {
            limit,
            token_limit: share(limit, token_percent),
            window: 0,
            used: 0,
            used_by: HashMap::new(),
            requests: 0,
            throttled: 0,
        }
    }

    /// Counts one request of `token` at `now` (org time); `Err` when the window's budget of
    /// the org or of the token is already spent.
    pub fn take(&mut self, token: &str, now: SystemTime) -> Result<Quota, Quota> {
        let start = window_start(epoch_secs(now));
        if start != self.window {
            self.window = start;
            self.used = 0;
            self.used_by.clear();
        }
        self.requests += 1;
        let reset = start + WINDOW_SECS;
        let by_token = self.used_by.get(token).copied().unwrap_or(0);
        if self.used >= self.limit || by_token >= self.token_limit {
            self.throttled += 1;
            return Err(Quota {
                limit: self.token_limit,
                remaining: 0,
                reset,
            });
        }
        self.used += 1;
        let by_token = by_token + 1;
        self.used_by.insert(token.to_string(), by_token);
        Ok(Quota {
            limit: self.token_limit,
            remaining: (self.token_limit - by_token).min(self.limit - self.used),
            reset,
        })
    }

    /// Requests counted against the bucket since the org was created, refused ones included.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Requests the bucket refused with 429 since the org was created.
    pub fn throttled(&self) -> u64 {
        self.throttled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_bucket_refuses_once_its_window_budget_is_spent() {
        let mut bucket = Bucket::new(2, 100);
        assert_eq!(bucket.take("a", at(120)).map(|q| q.remaining), Ok(1));
        assert_eq!(bucket.take("a", at(130)).map(|q| q.remaining), Ok(0));
        let refused = bucket.take("a", at(179)).unwrap_err();
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.reset, 180);
        assert_eq!((bucket.requests(), bucket.throttled()), (3, 1));
    }

    #[test]
    fn a_new_minute_starts_a_new_window() {
        let mut bucket = Bucket::new(1, 100);
        assert!(bucket.take("a", at(59)).is_ok());
        assert!(bucket.take("a", at(59)).is_err());
        let quota = bucket.take("a", at(60)).unwrap();
        assert_eq!((quota.remaining, quota.reset), (0, 120));
    }

    #[test]
    fn one_token_gets_only_its_share_while_the_org_bucket_holds_more() {
        let mut bucket = Bucket::new(5, 50);
        let first = bucket.take("a", at(0)).unwrap();
        assert_eq!((first.limit, first.remaining), (2, 1));
        assert!(bucket.take("a", at(1)).is_ok());
        let refused = bucket.take("a", at(2)).unwrap_err();
        assert_eq!((refused.limit, refused.remaining), (2, 0));
        assert_eq!(bucket.take("b", at(3)).map(|q| q.remaining), Ok(1));
    }

    #[test]
    fn remaining_is_what_the_org_has_left_when_that_is_less() {
        let mut bucket = Bucket::new(4, 50);
        assert!(bucket.take("a", at(0)).is_ok());
        assert!(bucket.take("a", at(0)).is_ok());
        assert_eq!(bucket.take("b", at(0)).map(|q| q.remaining), Ok(1));
        assert_eq!(bucket.take("c", at(0)).map(|q| q.remaining), Ok(0));
        assert!(bucket.take("d", at(0)).is_err());
    }

    #[test]
    fn a_share_is_rounded_down_and_never_overflows() {
        assert_eq!(share(100, 50), 50);
        assert_eq!(share(5, 50), 2);
        assert_eq!(share(1, 50), 0);
        assert_eq!(share(u32::MAX, 100), u32::MAX);
    }

    #[test]
    fn a_fresh_quota_reports_the_end_of_the_current_minute() {
        assert_eq!(Quota::fresh(100, at(61)).reset, 120);
        assert_eq!(Quota::fresh(100, at(61)).remaining, 100);
    }
}
