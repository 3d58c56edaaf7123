//! Rate limiting: the clock the simulator reads, and Okta-style fixed one-minute buckets.
//!
//! Okta counts requests per bucket in windows that start on the minute and tells clients when
//! the current window ends (`X-Rate-Limit-Reset`, epoch seconds). Every time the simulator
//! needs comes from a [`Clock`], so a faster clock can be swapped in without touching the
//! bucket logic.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Length of one rate-limit window.
pub const WINDOW_SECS: u64 = 60;

/// Where the simulator reads the time: `Date` headers, timestamps and rate-limit windows.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> SystemTime;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Seconds since the Unix epoch (0 for times before it).
pub fn epoch_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// What the rate-limit headers say after a request was counted (or refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
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

/// One bucket: a request budget per fixed one-minute window.
#[derive(Debug, Clone)]
pub struct Bucket {
    limit: u32,
    window: u64,
    used: u32,
}

impl Bucket {
    pub fn new(limit: u32) -> Self {
        Bucket {
            limit,
            window: 0,
            used: 0,
        }
    }

    /// Counts one request at `now`; `Err` when the window's budget is already spent.
    pub fn take(&mut self, now: SystemTime) -> Result<Quota, Quota> {
        let start = window_start(epoch_secs(now));
        if start != self.window {
            self.window = start;
            self.used = 0;
        }
        let reset = start + WINDOW_SECS;
        if self.used >= self.limit {
            return Err(Quota {
                limit: self.limit,
                remaining: 0,
                reset,
            });
        }
        self.used += 1;
        Ok(Quota {
            limit: self.limit,
            remaining: self.limit - self.used,
            reset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_bucket_refuses_once_its_window_budget_is_spent() {
        let mut bucket = Bucket::new(2);
        assert_eq!(bucket.take(at(120)).map(|q| q.remaining), Ok(1));
        assert_eq!(bucket.take(at(130)).map(|q| q.remaining), Ok(0));
        let refused = bucket.take(at(179)).unwrap_err();
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.reset, 180);
    }

    #[test]
    fn a_new_minute_starts_a_new_window() {
        let mut bucket = Bucket::new(1);
        assert!(bucket.take(at(59)).is_ok());
        assert!(bucket.take(at(59)).is_err());
        let quota = bucket.take(at(60)).unwrap();
        assert_eq!((quota.remaining, quota.reset), (0, 120));
    }

    #[test]
    fn a_fresh_quota_reports_the_end_of_the_current_minute() {
        assert_eq!(Quota::fresh(100, at(61)).reset, 120);
        assert_eq!(Quota::fresh(100, at(61)).remaining, 100);
    }
}
