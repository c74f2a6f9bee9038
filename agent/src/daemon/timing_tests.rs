//! The daemon's retry and jitter timings.
use super::*;

#[test]
fn retries_follow_the_outage_age_and_retry_after() {
    for _ in 0..50 {
        let soon = retry_delay(Duration::from_secs(5), None);
        assert!(soon <= Duration::from_millis(2_500), "{soon:?}");
        // a long outage: back within a minute of the collector's return
        let long = retry_delay(Duration::from_secs(3_600), None);
        assert!(
            long >= Duration::from_secs(30) && long <= MAX_RETRY_DELAY,
            "{long:?}"
        );
        let after_150_s = retry_delay(Duration::from_secs(150), None);
        assert!(after_150_s <= MAX_RETRY_DELAY, "{after_150_s:?}");
        let told = retry_delay(Duration::from_secs(1), Some(Duration::from_secs(30)));
        assert!(told >= Duration::from_secs(30));
    }
}
