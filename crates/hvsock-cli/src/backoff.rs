//! The pause after a failed accept, shared by every accept loop of the CLI.

use std::time::Duration;

/// Pause after a failed accept: starts small, doubles, at most a second.
pub struct Backoff(Duration);

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    /// A backoff at its first, shortest pause.
    pub fn new() -> Backoff {
        Backoff(Self::FIRST)
    }

    /// Back to the first pause (after a successful accept).
    pub fn reset(&mut self) {
        self.0 = Self::FIRST;
    }

    /// The next pause.
    pub fn next(&mut self) -> Duration {
        let d = self.0;
        self.0 = (self.0 * 2).min(Self::MAX);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_a_second_and_resets() {
        let mut b = Backoff::new();
        assert_eq!(b.next(), Duration::from_millis(10));
        assert_eq!(b.next(), Duration::from_millis(20));
        for _ in 0..10 {
            b.next();
        }
        assert_eq!(b.next(), Duration::from_secs(1));
        b.reset();
        assert_eq!(b.next(), Duration::from_millis(10));
    }
}
