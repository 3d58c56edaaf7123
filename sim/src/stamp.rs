//! Okta-looking identifiers (`00g…`, `0oa…`, request and error ids) and ISO-8601 timestamps.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static COUNTER: AtomicU64 = AtomicU64::new(0);
const TAIL: usize = 6;

fn seed() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_nanos();
        (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
    })
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `prefix` followed by base-62 characters up to `len` characters in all; unique per process.
pub fn unique_id(prefix: &str, len: usize) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut state = mix(seed() ^ mix(n));
    let mut id = String::with_capacity(len);
    id.push_str(prefix);
    // The counter's digits, at a fixed width, end the id so that two ids never collide.
    let mut tail = [b'0'; TAIL];
    let mut rest = n;
    for slot in tail.iter_mut().rev() {
        *slot = ALPHABET[(rest % 62) as usize];
        rest /= 62;
    }
    while id.len() + TAIL < len {
        id.push(ALPHABET[(state % 62) as usize] as char);
        state /= 62;
        if state == 0 {
            state = mix(n.wrapping_add(id.len() as u64));
        }
    }
    id.extend(tail.iter().map(|&b| b as char));
    id
}

/// A group id: `00g` and 17 more characters.
pub fn group_id() -> String {
    unique_id("00g", 20)
}

/// An app id: `0oa` and 17 more characters.
pub fn app_id() -> String {
    unique_id("0oa", 20)
}

/// An `X-Okta-Request-Id` value.
pub fn request_id() -> String {
    unique_id("", 27)
}

/// An error body's `errorId`.
pub fn error_id() -> String {
    unique_id("oae", 23)
}

/// `2025-03-07T10:21:20.000Z`, the form Okta uses for timestamps.
pub fn iso8601(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let millis = since.subsec_millis();
    let days = (secs / 86_400) as i64;
    let of_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_look_like_oktas() {
        let t = UNIX_EPOCH + Duration::from_millis(1_741_342_880_250);
        assert_eq!(iso8601(t), "2025-03-07T10:21:20.250Z");
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(iso8601(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn ids_have_oktas_prefixes_and_lengths_and_never_repeat() {
        let a = group_id();
        let b = group_id();
        assert!(a.starts_with("00g") && a.len() == 20, "{a}");
        assert_ne!(a, b);
        assert!(app_id().starts_with("0oa"));
        assert_eq!(app_id().len(), 20);
        assert!(error_id().starts_with("oae"));
        assert_eq!(request_id().len(), 27);
        let many: std::collections::HashSet<String> = (0..5000).map(|_| group_id()).collect();
        assert_eq!(many.len(), 5000);
    }
}
