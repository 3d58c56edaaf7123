//! Okta's rate limits as this client sees them: what each response's `X-Rate-Limit-*` headers
//! say about its bucket, and how long to hold back before the next call so that a burst uses
//! the bucket to the last request and then waits for the window to reset instead of running
//! into 429s.
//!
//! Okta's `X-Rate-Limit-Reset` is an epoch time on Okta's clock; the wait is measured against
//! the same response's `Date` header, never the local clock, plus a second of margin.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::HeaderMap;

/// Okta's rate-limit buckets that matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// `/api/v1/apps*`: about 100 a minute for the whole org, half of it per token.
    Apps,
    /// `/api/v1/groups*`: several hundred a minute.
    Groups,
    Other,
}

impl Bucket {
    pub fn of_path(path: &str) -> Self {
        if path.starts_with("/api/v1/apps") {
            Self::Apps
        } else if path.starts_with("/api/v1/groups") {
            Self::Groups
        } else {
            Self::Other
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Apps => "apps",
            Self::Groups => "groups",
            Self::Other => "other",
        }
    }
}

/// Margin added to every wait for a reset, as Okta's SDKs do.
pub const RESET_MARGIN: Duration = Duration::from_secs(1);

/// How Okta's clock relates to ours: 1.0 in production. A simulator whose clock runs faster
/// (for benchmarks of minute-long windows) is matched with a larger scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OktaClock {
    okta_seconds_per_second: f64,
}

impl OktaClock {
    pub const REAL: Self = Self {
        okta_seconds_per_second: 1.0,
    };

    pub fn scaled(okta_seconds_per_second: f64) -> Self {
        Self {
            okta_seconds_per_second: okta_seconds_per_second.max(f64::MIN_POSITIVE),
        }
    }

    /// The local duration of a span of Okta's time.
    pub fn to_local(self, okta: Duration) -> Duration {
        okta.div_f64(self.okta_seconds_per_second)
    }
}

impl Default for OktaClock {
    fn default() -> Self {
        Self::REAL
    }
}

/// What one response said about its bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub limit: u32,
    pub remaining: u32,
    /// How long after the response the window resets, by Okta's clock (Reset minus Date).
    pub resets_in: Duration,
}

/// Reads the rate-limit headers of a response. `None` when any is missing or unreadable.
/// When a header repeats, the most cautious value counts.
pub fn read_headers(headers: &HeaderMap) -> Option<Reading> {
    let numbers = |name: &str| -> Vec<u64> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|v| v.trim().parse().ok())
            .collect()
    };
    let limit = numbers("x-rate-limit-limit").into_iter().min()?;
    let remaining = numbers("x-rate-limit-remaining").into_iter().min()?;
    let reset = numbers("x-rate-limit-reset").into_iter().max()?;
    let date = headers
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())?;
    let reset = SystemTime::UNIX_EPOCH + Duration::from_secs(reset);
    Some(Reading {
        limit: u32::try_from(limit).unwrap_or(u32::MAX),
        remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
        resets_in: reset.duration_since(date).unwrap_or_default(),
    })
}

#[derive(Debug, Clone, Copy)]
struct Window {
    remaining: u32,
    in_flight: u32,
    resets_at: Instant,
}

/// The client's view of each bucket, shared by all its calls.
#[derive(Debug, Default)]
pub struct Limiter {
    clock: OktaClock,
    windows: Mutex<HashMap<Bucket, Window>>,
}

impl Limiter {
    pub fn new(clock: OktaClock) -> Self {
        Self {
            clock,
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn clock(&self) -> OktaClock {
        self.clock
    }

    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<Bucket, Window>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims one call in `bucket`: `Ok` when it may go now, or `Err(wait)` when the bucket is
    /// spent until its window resets.
    pub fn claim(&self, bucket: Bucket) -> Result<(), Duration> {
        let now = Instant::now();
        let mut windows = self.windows();
        let Some(window) = windows.get_mut(&bucket) else {
            return Ok(());
        };
        if now >= window.resets_at {
            windows.remove(&bucket);
            return Ok(());
        }
        if window.remaining > window.in_flight {
            window.in_flight += 1;
            Ok(())
        } else {
            Err(window.resets_at - now)
        }
    }

    /// Records what a response said, for a call that [`Limiter::claim`] let go.
    pub fn observe(&self, bucket: Bucket, reading: Option<Reading>) {
        let mut windows = self.windows();
        let in_flight = windows
            .get(&bucket)
            .map(|w| w.in_flight.saturating_sub(1))
            .unwrap_or(0);
        match reading {
            Some(reading) => {
                let resets_at =
                    Instant::now() + self.clock.to_local(reading.resets_in + RESET_MARGIN);
                windows.insert(
                    bucket,
                    Window {
                        remaining: reading.remaining,
                        in_flight,
                        resets_at,
                    },
                );
            }
            None => {
                if let Some(window) = windows.get_mut(&bucket) {
                    window.in_flight = in_flight;
                }
            }
        }
    }

    /// Marks the bucket spent until the reset a 429 named, and returns the local wait.
    pub fn throttled(&self, bucket: Bucket, reading: Option<Reading>) -> Duration {
        let resets_in = reading
            .map(|r| r.resets_in)
            .unwrap_or(Duration::from_secs(60));
        let wait = self.clock.to_local(resets_in + RESET_MARGIN);
        let mut windows = self.windows();
        let in_flight = windows
            .get(&bucket)
            .map(|w| w.in_flight.saturating_sub(1))
            .unwrap_or(0);
        windows.insert(
            bucket,
            Window {
                remaining: 0,
                in_flight,
                resets_at: Instant::now() + wait,
            },
        );
        wait
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn reset_is_measured_against_okta_date_not_the_local_clock() {
        let reading = read_headers(&headers(&[
            ("Date", "Fri, 07 Mar 2025 10:21:20 GMT"),
            ("X-Rate-Limit-Limit", "50"),
            ("X-Rate-Limit-Remaining", "0"),
            ("X-Rate-Limit-Reset", "1741342940"),
        ]))
        .unwrap();
        assert_eq!(reading.resets_in, Duration::from_secs(60));
        assert_eq!(reading.remaining, 0);
    }

    #[test]
    fn repeated_reset_header_counts_once_at_its_latest() {
        let reading = read_headers(&headers(&[
            ("Date", "Fri, 07 Mar 2025 10:21:20 GMT"),
            ("X-Rate-Limit-Limit", "50"),
            ("X-Rate-Limit-Remaining", "3"),
            ("X-Rate-Limit-Reset", "1741342900"),
            ("X-Rate-Limit-Reset", "1741342940"),
        ]))
        .unwrap();
        assert_eq!(reading.resets_in, Duration::from_secs(60));
    }

    #[test]
    fn missing_headers_give_no_reading() {
        assert_eq!(
            read_headers(&headers(&[("X-Rate-Limit-Limit", "50")])),
            None
        );
    }

    #[test]
    fn spent_bucket_holds_calls_until_its_reset() {
        let limiter = Limiter::new(OktaClock::REAL);
        assert!(limiter.claim(Bucket::Apps).is_ok());
        limiter.observe(
            Bucket::Apps,
            Some(Reading {
                limit: 50,
                remaining: 1,
                resets_in: Duration::from_secs(30),
            }),
        );
        assert!(limiter.claim(Bucket::Apps).is_ok());
        let wait = limiter.claim(Bucket::Apps).unwrap_err();
        assert!(wait > Duration::from_secs(29) && wait <= Duration::from_secs(31));
        assert!(
            limiter.claim(Bucket::Groups).is_ok(),
            "buckets are separate"
        );
    }

    #[test]
    fn scaled_clock_shortens_local_waits() {
        let limiter = Limiter::new(OktaClock::scaled(60.0));
        let wait = limiter.throttled(
            Bucket::Apps,
            Some(Reading {
                limit: 50,
                remaining: 0,
                resets_in: Duration::from_secs(59),
            }),
        );
        assert_eq!(wait, Duration::from_secs(1));
    }

    #[test]
    fn paths_map_to_their_buckets() {
        assert_eq!(
            Bucket::of_path("/api/v1/apps/0oa1/groups/00g1"),
            Bucket::Apps
        );
        assert_eq!(Bucket::of_path("/api/v1/groups"), Bucket::Groups);
        assert_eq!(Bucket::of_path("/oauth2/v1/token"), Bucket::Other);
    }
}
