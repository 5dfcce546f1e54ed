//! Running time: per owner (the primary thread, or a child thread), intervals from
//! `running` to the next stop; then their union, so concurrent threads count once.

use std::collections::BTreeMap;

use crate::time::Millis;
use crate::usage::Interval;

/// Tracks which owners are running. `None` is the primary thread.
#[derive(Default)]
pub struct Clock<'a> {
    open: BTreeMap<Option<&'a str>, Millis>,
    closed: Vec<Interval>,
}

impl<'a> Clock<'a> {
    /// A repeated `running` does not restart the interval.
    pub fn start(&mut self, owner: Option<&'a str>, at: Millis) {
        self.open.entry(owner).or_insert(at);
    }

    pub fn stop(&mut self, owner: Option<&'a str>, at: Millis) {
        if let Some(start) = self.open.remove(&owner) {
            self.closed.push(Interval { start, end: at });
        }
    }

    pub fn stop_all(&mut self, at: Millis) {
        for (_, start) in std::mem::take(&mut self.open) {
            self.closed.push(Interval { start, end: at });
        }
    }

    /// Close what is still running at `last` (the session's last event). Returns whether any was.
    pub fn finish(mut self, last: Millis) -> (Vec<Interval>, bool) {
        let still_running = !self.open.is_empty();
        self.stop_all(last);
        (union(self.closed), still_running)
    }
}

/// The union of intervals: sorted, disjoint, empty ones dropped.
pub fn union(mut v: Vec<Interval>) -> Vec<Interval> {
    v.retain(|i| i.end > i.start);
    v.sort();
    let mut out: Vec<Interval> = Vec::with_capacity(v.len());
    for i in v {
        match out.last_mut() {
            Some(last) if i.start <= last.end => last.end = last.end.max(i.end),
            _ => out.push(i),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(start: Millis, end: Millis) -> Interval {
        Interval { start, end }
    }

    #[test]
    fn overlaps_count_once_and_touching_intervals_merge() {
        // [0,30) ∪ [10,45) ∪ [45,50) ∪ [50,60) = [0,60): 60, not 30+35+5+10 = 80.
        assert_eq!(
            union(vec![iv(10, 45), iv(0, 30), iv(50, 60), iv(45, 50)]),
            vec![iv(0, 60)]
        );
        assert_eq!(
            union(vec![iv(0, 10), iv(20, 30), iv(5, 5)]),
            vec![iv(0, 10), iv(20, 30)]
        );
    }

    #[test]
    fn repeated_running_does_not_restart_and_open_owners_close_at_the_end() {
        let mut c = Clock::default();
        c.start(None, 0);
        c.start(None, 40); // repeated: the clock keeps running from 0
        c.stop(None, 100);
        c.stop(None, 150); // a stop while stopped changes nothing
        c.start(Some("sthr_a"), 120);
        let (iv_, still) = c.finish(200);
        assert_eq!(iv_, vec![iv(0, 100), iv(120, 200)]);
        assert!(still);
    }
}
