//! An in-process limiter of requests per client per minute (fixed one-minute windows), for
//! the public tracking page and JSON: tracking numbers are sequential and guessable.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    per_minute: Option<u32>,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl RateLimiter {
    /// `None` lets every request through.
    pub fn new(per_minute: Option<u32>) -> RateLimiter {
        RateLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request from `client`; `false` when it is over the limit this minute.
    pub fn allow(&self, client: Option<IpAddr>) -> bool {
        let (Some(limit), Some(ip)) = (self.per_minute, client) else {
            return true;
        };
        let now = Instant::now();
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        // Forget finished windows now and then, so the map stays as big as one minute's clients.
        if w.len() > 10_000 {
            w.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = w.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_client() {
        let l = RateLimiter::new(Some(2));
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(l.allow(a) && l.allow(a));
        assert!(!l.allow(a));
        assert!(l.allow(b));
        let off = RateLimiter::new(None);
        assert!((0..1000).all(|_| off.allow(a)));
    }
}
