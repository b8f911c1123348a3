//! Retry policy: full-jitter exponential backoff, a cap on attempts, an overall deadline, and a retry budget
//! (a token bucket that successes refill), so that a failing service is not hammered.

use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
    /// The base for throttling answers (429, 503 SlowDown and the like): longer.
    pub throttle_base: Duration,
    /// The whole operation, retries included, must end within this.
    pub deadline: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(10),
            throttle_base: Duration::from_millis(500),
            deadline: None,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..Default::default() }
    }

    /// Full jitter: a uniform delay between 0 and min(cap, base·2^attempt).
    pub fn delay(&self, attempt: u32, throttled: bool) -> Duration {
        let base = if throttled { self.throttle_base } else { self.base };
        let ceiling = base.saturating_mul(1u32 << attempt.min(16)).min(self.cap);
        let mut b = [0u8; 8];
        let r = if getrandom::getrandom(&mut b).is_ok() { u64::from_le_bytes(b) } else { 0 };
        Duration::from_nanos(r % (ceiling.as_nanos() as u64).max(1))
    }
}

/// Retries cost tokens (timeouts and transport failures more); successes give one back.
#[derive(Debug)]
pub struct Budget {
    tokens: Mutex<u32>,
    capacity: u32,
}

impl Budget {
    pub const RETRY_COST: u32 = 5;
    pub const TRANSPORT_COST: u32 = 10;

    pub fn new(capacity: u32) -> Budget {
        Budget { tokens: Mutex::new(capacity), capacity }
    }

    pub fn withdraw(&self, transport_failure: bool) -> bool {
        let cost = if transport_failure { Self::TRANSPORT_COST } else { Self::RETRY_COST };
        match self.tokens.lock() {
            Ok(mut t) if *t >= cost => {
                *t -= cost;
                true
            }
            _ => false,
        }
    }

    pub fn success(&self) {
        if let Ok(mut t) = self.tokens.lock() {
            *t = (*t + 1).min(self.capacity);
        }
    }

    pub fn available(&self) -> u32 {
        self.tokens.lock().map(|t| *t).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_jitter_stays_under_the_ceiling() {
        let p = RetryPolicy::default();
        for attempt in 1..10 {
            for _ in 0..50 {
                let d = p.delay(attempt, false);
                assert!(d <= p.base * (1 << attempt) && d <= p.cap, "{attempt}: {d:?}");
            }
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| p.delay(3, false)).collect();
        assert!(spread.len() > 10, "jitter must vary");
    }

    #[test]
    fn budget_drains_and_refills() {
        let b = Budget::new(12);
        assert!(b.withdraw(false));
        assert!(b.withdraw(false));
        assert!(!b.withdraw(false), "2 tokens left is less than a retry");
        for _ in 0..10 {
            b.success();
        }
        assert_eq!(b.available(), 12);
        assert!(b.withdraw(true));
        assert!(!b.withdraw(true));
    }
}
