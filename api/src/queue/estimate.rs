//! Expected wait: from the OPD's recent real consultation durations and the doctors online.

/// Used until an OPD has completed consultations of its own.
pub const DEFAULT_CONSULTATION_SECONDS: i64 = 6 * 60;

/// The median of recent consultation durations (seconds), or the default with no history.
pub fn typical_consultation_seconds(recent_durations: &[i64]) -> i64 {
    let mut durations: Vec<i64> = recent_durations
        .iter()
        .copied()
        .filter(|d| *d > 0)
        .collect();
    if durations.is_empty() {
        return DEFAULT_CONSULTATION_SECONDS;
    }
    durations.sort_unstable();
    let mid = durations.len() / 2;
    if durations.len() % 2 == 1 {
        durations[mid]
    } else {
        (durations[mid - 1] + durations[mid]) / 2
    }
}

/// Seconds until a patient with `ahead` patients before them is called, with `doctors` online
/// working in parallel. `None` when no doctor is online: nobody can promise a time then.
pub fn expected_wait_seconds(ahead: usize, doctors: usize, typical_seconds: i64) -> Option<i64> {
    if doctors == 0 {
        return None;
    }
    // Everyone ahead is seen in rounds of `doctors` at a time.
    let rounds = (ahead as u64).div_ceil(doctors as u64) as i64;
    Some(rounds * typical_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_recent_durations() {
        assert_eq!(typical_consultation_seconds(&[300, 100, 200]), 200);
        assert_eq!(typical_consultation_seconds(&[100, 200, 300, 400]), 250);
        assert_eq!(
            typical_consultation_seconds(&[]),
            DEFAULT_CONSULTATION_SECONDS
        );
    }

    #[test]
    fn wait_shrinks_with_more_doctors_and_is_unknown_with_none() {
        assert_eq!(expected_wait_seconds(0, 1, 300), Some(0));
        assert_eq!(expected_wait_seconds(5, 1, 300), Some(1500));
        assert_eq!(expected_wait_seconds(5, 2, 300), Some(900));
        assert_eq!(expected_wait_seconds(5, 0, 300), None);
    }
}
