//! Time: the clock the simulator reads and each org's scaled view of it.
//!
//! An org's time starts at the simulator clock's time when the org was created and then runs
//! `clockScale` times as fast, so a test can let Okta minutes pass in real seconds. Everything
//! an org does with time (`Date`, `lastUpdated`, rate-limit windows, latency) reads its own
//! [`OrgClock`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where the simulator reads the time.
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

/// The last second an HTTP date can name: 9999-12-31T23:59:59Z.
const LATEST_SECS: u64 = 253_402_300_799;

/// Seconds since the Unix epoch (0 for times before it).
pub fn epoch_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// Seconds since the Unix epoch with their fraction (0 for times before it).
pub fn epoch_secs_f64(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
}

/// `time` moved into the range every timestamp and HTTP date of the simulator can show.
fn clamp(time: SystemTime) -> SystemTime {
    time.clamp(UNIX_EPOCH, latest())
}

fn latest() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(LATEST_SECS)
}

/// `duration` × `factor`, saturating instead of overflowing.
fn scale(duration: Duration, factor: f64) -> Duration {
    Duration::try_from_secs_f64(duration.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

/// One org's time: `origin` + (simulator time since `origin`) × `scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrgClock {
    origin: SystemTime,
    scale: f64,
}

impl OrgClock {
    /// A clock that reads `origin` at simulator time `origin`. `scale` is finite and positive.
    pub fn new(origin: SystemTime, scale: f64) -> Self {
        OrgClock { origin, scale }
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The org's time when the simulator clock reads `sim_now`.
    pub fn at(&self, sim_now: SystemTime) -> SystemTime {
        if self.scale == 1.0 {
            return clamp(sim_now);
        }
        let scaled = match sim_now.duration_since(self.origin) {
            Ok(ahead) => self
                .origin
                .checked_add(scale(ahead, self.scale))
                .unwrap_or(latest()),
            Err(behind) => self
                .origin
                .checked_sub(scale(behind.duration(), self.scale))
                .unwrap_or(UNIX_EPOCH),
        };
        clamp(scaled)
    }

    /// How long the simulator clock takes to let `org_time` pass for the org.
    pub fn real(&self, org_time: Duration) -> Duration {
        if self.scale == 1.0 {
            return org_time;
        }
        scale(org_time, 1.0 / self.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn an_org_clock_starts_at_its_origin_and_runs_scale_times_as_fast() {
        let clock = OrgClock::new(at(1_000), 60.0);
        assert_eq!(clock.at(at(1_000)), at(1_000));
        assert_eq!(clock.at(at(1_001)), at(1_060));
        assert_eq!(clock.at(at(1_000) + Duration::from_millis(500)), at(1_030));
        assert_eq!(clock.real(Duration::from_secs(60)), Duration::from_secs(1));
    }

    #[test]
    fn a_scale_of_one_is_the_simulator_clock_exactly() {
        let clock = OrgClock::new(at(1_000), 1.0);
        let t = at(5_000) + Duration::from_nanos(123_456_789);
        assert_eq!(clock.at(t), t);
        assert_eq!(
            clock.real(Duration::from_millis(7)),
            Duration::from_millis(7)
        );
    }

    #[test]
    fn a_slow_clock_runs_behind_and_stretches_latency() {
        let clock = OrgClock::new(at(1_000), 0.5);
        assert_eq!(clock.at(at(1_010)), at(1_005));
        assert_eq!(clock.at(at(990)), at(995));
        assert_eq!(clock.real(Duration::from_secs(1)), Duration::from_secs(2));
    }

    #[test]
    fn extreme_scales_stay_within_what_an_http_date_can_show() {
        let fast = OrgClock::new(at(1_000), 1e300);
        assert_eq!(epoch_secs(fast.at(at(2_000))), LATEST_SECS);
        assert_eq!(fast.at(at(0)), UNIX_EPOCH);
        assert_eq!(fast.real(Duration::from_secs(1)), Duration::ZERO);
        let slow = OrgClock::new(at(1_000), 1e-300);
        assert_eq!(slow.real(Duration::from_secs(1)), Duration::MAX);
        assert_eq!(slow.at(at(2_000)), at(1_000));
    }
}
