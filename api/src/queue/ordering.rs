//! Who is called next: the ordering rule with a priority lane.
//!
//! Senior citizens (60+), pregnant women and persons with disability may be in the priority
//! lane. The rule, configurable per OPD by `k = priority_every`:
//!
//! > **At most one priority patient before every k regular patients.** After a priority
//! > patient is called, the next priority patient is called only once k regular patients have
//! > been called since, or when no regular patient is waiting. Within each lane, patients are
//! > called in booking order (`queue_order`; a re-queued no-show goes to the end).
//!
//! So neither lane starves: while both lanes have patients waiting, every block of k + 1 calls
//! serves k regular patients and one priority patient. `k = 0` turns the lane off: everyone is
//! called in booking order. A session starts with the counter at k, so a priority patient
//! waiting at the start is called first.

/// A waiting token as the rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting<Id> {
    pub id: Id,
    pub queue_order: i32,
    pub priority: bool,
}

/// The lane state of a session: regular patients called since the last priority patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneState {
    pub priority_every: i32,
    pub regular_since_priority: i32,
}

impl LaneState {
    fn lane_on(&self) -> bool {
        self.priority_every > 0
    }

    /// Whether the next call goes to the priority lane, given what is waiting.
    fn priority_turn(&self, priority_waiting: bool, regular_waiting: bool) -> bool {
        priority_waiting && (!regular_waiting || self.regular_since_priority >= self.priority_every)
    }

    /// The state after calling a patient of the given lane.
    pub fn after_call(self, priority: bool) -> LaneState {
        if !self.lane_on() {
            return self;
        }
        let regular_since_priority = if priority {
            0
        } else {
            self.regular_since_priority.saturating_add(1)
        };
        LaneState {
            regular_since_priority,
            ..self
        }
    }
}

/// The waiting tokens in the order they will be called, and the lane state after each call.
pub fn call_order<Id: Clone>(waiting: &[Waiting<Id>], state: LaneState) -> Vec<Waiting<Id>> {
    let mut sorted: Vec<&Waiting<Id>> = waiting.iter().collect();
    sorted.sort_by_key(|w| w.queue_order);
    if !state.lane_on() {
        return sorted.into_iter().cloned().collect();
    }
    let (priority, regular): (Vec<_>, Vec<_>) = sorted.into_iter().partition(|w| w.priority);
    let (mut p, mut r) = (
        priority.into_iter().peekable(),
        regular.into_iter().peekable(),
    );
    let mut state = state;
    let mut order = Vec::with_capacity(waiting.len());
    while p.peek().is_some() || r.peek().is_some() {
        let take_priority = state.priority_turn(p.peek().is_some(), r.peek().is_some());
        let next = if take_priority { p.next() } else { r.next() }.expect("a lane has a patient");
        state = state.after_call(take_priority);
        order.push(next.clone());
    }
    order
}

/// The token to call now, if anyone is waiting.
pub fn next_to_call<Id: Clone>(waiting: &[Waiting<Id>], state: LaneState) -> Option<Waiting<Id>> {
    call_order(waiting, state).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(spec: &str) -> Vec<Waiting<usize>> {
        // 'P' priority, 'R' regular, in booking order.
        spec.chars()
            .enumerate()
            .map(|(i, c)| Waiting {
                id: i + 1,
                queue_order: i as i32 + 1,
                priority: c == 'P',
            })
            .collect()
    }

    fn ids(order: &[Waiting<usize>]) -> Vec<usize> {
        order.iter().map(|w| w.id).collect()
    }

    #[test]
    fn without_a_priority_lane_everyone_goes_in_booking_order() {
        let state = LaneState {
            priority_every: 0,
            regular_since_priority: 0,
        };
        assert_eq!(ids(&call_order(&queue("RPRPR"), state)), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn one_priority_patient_before_every_k_regular_ones() {
        let state = LaneState {
            priority_every: 2,
            regular_since_priority: 2,
        };
        // P at 4, 5, 6 jump ahead, but only one per two regular patients.
        assert_eq!(
            ids(&call_order(&queue("RRRPPPRR"), state)),
            [4, 1, 2, 5, 3, 7, 6, 8]
        );
    }

    #[test]
    fn regular_patients_are_never_starved_by_many_priority_patients() {
        let state = LaneState {
            priority_every: 3,
            regular_since_priority: 3,
        };
        let order = call_order(&queue("PPPPPPPPRRR"), state);
        let first_regular = order.iter().position(|w| !w.priority).unwrap();
        assert_eq!(
            first_regular, 1,
            "a regular patient is called right after the first priority one"
        );
        assert_eq!(ids(&order)[..5], [1, 9, 10, 11, 2]);
    }

    #[test]
    fn priority_patients_are_never_starved_by_many_regular_ones() {
        let state = LaneState {
            priority_every: 2,
            regular_since_priority: 0,
        };
        let order = call_order(&queue("RRRRRRRRRP"), state);
        assert_eq!(ids(&order).iter().position(|&id| id == 10), Some(2));
    }

    #[test]
    fn a_lone_lane_is_served_without_waiting_for_the_other() {
        let state = LaneState {
            priority_every: 5,
            regular_since_priority: 0,
        };
        assert_eq!(ids(&call_order(&queue("PPP"), state)), [1, 2, 3]);
        assert_eq!(ids(&call_order(&queue("RRR"), state)), [1, 2, 3]);
    }

    #[test]
    fn next_to_call_follows_the_state_counter() {
        let q = queue("RP");
        assert_eq!(
            next_to_call(
                &q,
                LaneState {
                    priority_every: 2,
                    regular_since_priority: 1
                }
            )
            .unwrap()
            .id,
            1
        );
        assert_eq!(
            next_to_call(
                &q,
                LaneState {
                    priority_every: 2,
                    regular_since_priority: 2
                }
            )
            .unwrap()
            .id,
            2
        );
        let after = LaneState {
            priority_every: 2,
            regular_since_priority: 2,
        }
        .after_call(true);
        assert_eq!(after.regular_since_priority, 0);
    }
}
