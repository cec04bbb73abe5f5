//! From a proposal to the replicas to set (§4.1 legacy, §4.2 behavior): stabilization over
//! past recommendations, rate limits over past scale events, min/max; and the history both
//! keep. Times are ms since the epoch, windows ms unless named `_seconds`.

use crate::types::{Behavior, History, PolicyKind, Rules, SelectPolicy, Timestamped};

/// Legacy scale-up cap factor (`scaleUpLimitFactor`).
pub const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
/// Legacy scale-up cap minimum (`scaleUpLimitMinimum`).
pub const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;

/// `recent recommendations were higher than current one, ...`.
const DOWN_STABILIZED: &str = "recent recommendations were higher than current one, applying the highest recent recommendation";
/// `recent recommendations were lower than current one, ...`.
const UP_STABILIZED: &str =
    "recent recommendations were lower than current one, applying the lowest recent recommendation";
/// `recommended size matches current size`.
const READY: &str = "recommended size matches current size";

/// A limit applied (or not) to a recommendation: the `ScalingLimited` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// The replicas after the limit.
    pub replicas: i32,
    /// `DesiredWithinRange`, `ScaleUpLimit`, `ScaleDownLimit`, `TooManyReplicas`,
    /// `TooFewReplicas`.
    pub reason: &'static str,
    /// The controller's message for it.
    pub message: &'static str,
}

/// A stabilized recommendation: the `AbleToScale` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stabilized {
    /// The stabilized recommendation.
    pub replicas: i32,
    /// `ReadyForNewScale`, `ScaleUpStabilized` or `ScaleDownStabilized`.
    pub reason: &'static str,
    /// The controller's message for it.
    pub message: &'static str,
}

/// The outcome of normalization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Normalized {
    /// Stabilization (`AbleToScale`).
    pub stabilized: Stabilized,
    /// Limits (`ScalingLimited`; limiting iff `limited.replicas != stabilized.replicas`).
    pub limited: Limited,
}

/// `(replicas, reason, message)` as a [`Limited`].
fn limited(replicas: i32, reason: &'static str, message: &'static str) -> Limited {
    Limited {
        replicas,
        reason,
        message,
    }
}

/// Within range.
fn within(replicas: i32) -> Limited {
    limited(
        replicas,
        "DesiredWithinRange",
        "the desired count is within the acceptable range",
    )
}

/// Saturates an `i64` into `i32`.
fn clamp_i32(x: i64) -> i32 {
    x.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// Seconds to ms.
fn seconds_ms(seconds: i32) -> i64 {
    i64::from(seconds) * 1000
}

/// Legacy scale-up cap: `max(2 × current, 4)`.
pub fn legacy_scale_up_limit(current: i32) -> i32 {
    (SCALE_UP_LIMIT_FACTOR * f64::from(current)).max(SCALE_UP_LIMIT_MINIMUM) as i32
}

/// `convertDesiredReplicasWithRules`: clamps `desired` to `[min, min(max, cap)]`, naming
/// the binding limit.
pub fn convert_with_rules(current: i32, desired: i32, min: i32, max: i32) -> Limited {
    let cap = legacy_scale_up_limit(current);
    let upper = if max > cap {
        limited(
            cap,
            "ScaleUpLimit",
            "the desired replica count is increasing faster than the maximum scale rate",
        )
    } else {
        limited(
            max,
            "TooManyReplicas",
            "the desired replica count is more than the maximum replica count",
        )
    };
    if desired < min {
        limited(
            min,
            "TooFewReplicas",
            "the desired replica count is less than the minimum replica count",
        )
    } else if desired > upper.replicas {
        upper
    } else {
        within(desired)
    }
}

/// Legacy stabilization (`stabilizeRecommendation`): the maximum of `proposal` and every
/// recommendation not older than `window_ms`; then records `proposal` at `now_ms` in the
/// last slot older than the window, else appends it.
pub fn stabilize_legacy(
    recs: &mut Vec<Timestamped>,
    proposal: i32,
    now_ms: i64,
    window_ms: i64,
) -> i32 {
    let cutoff = now_ms.saturating_sub(window_ms);
    let mut max = proposal;
    let mut old = None;
    for (i, rec) in recs.iter().enumerate() {
        if rec.time_ms < cutoff {
            old = Some(i);
        } else if rec.replicas > max {
            max = rec.replicas;
        }
    }
    record(recs, old, proposal, now_ms);
    max
}

/// Puts `replicas` at `now_ms` into slot `old`, or appends it.
fn record(recs: &mut Vec<Timestamped>, old: Option<usize>, replicas: i32, now_ms: i64) {
    let rec = Timestamped {
        replicas,
        time_ms: now_ms,
    };
    match old.and_then(|i| recs.get_mut(i)) {
        Some(slot) => *slot = rec,
        None => recs.push(rec),
    }
}

/// Stabilization with behavior (`stabilizeRecommendationWithBehaviors`): the current
/// replicas brought up to the minimum of recommendations newer than the scale-up window
/// and down to the maximum of those newer than the scale-down window (both including
/// `proposal`); then records `proposal` in the last slot older than both windows, else
/// appends it. The reason names the direction of `proposal` against `current`.
pub fn stabilize_with_behavior(
    recs: &mut Vec<Timestamped>,
    proposal: i32,
    current: i32,
    up_window_ms: i64,
    down_window_ms: i64,
    now_ms: i64,
) -> Stabilized {
    let up_cutoff = now_ms.saturating_sub(up_window_ms);
    let down_cutoff = now_ms.saturating_sub(down_window_ms);
    let (mut up, mut down) = (proposal, proposal);
    let mut old = None;
    for (i, rec) in recs.iter().enumerate() {
        if rec.time_ms > up_cutoff {
            up = up.min(rec.replicas);
        }
        if rec.time_ms > down_cutoff {
            down = down.max(rec.replicas);
        }
        if rec.time_ms < up_cutoff && rec.time_ms < down_cutoff {
            old = Some(i);
        }
    }
    let replicas = current.max(up).min(down);
    record(recs, old, proposal, now_ms);
    let (reason, message) = if replicas == proposal {
        ("ReadyForNewScale", READY)
    } else if proposal >= current {
        ("ScaleUpStabilized", UP_STABILIZED)
    } else {
        ("ScaleDownStabilized", DOWN_STABILIZED)
    };
    Stabilized {
        replicas,
        reason,
        message,
    }
}

/// The replicas changed by events newer than `period_seconds` before `now_ms`.
pub fn change_in_period(events: &[Timestamped], period_seconds: i32, now_ms: i64) -> i64 {
    let cutoff = now_ms.saturating_sub(seconds_ms(period_seconds));
    events
        .iter()
        .filter(|e| e.time_ms > cutoff)
        .fold(0i64, |sum, e| sum.saturating_add(i64::from(e.replicas)))
}

/// The replicas at the start of a policy's period: current minus the scale-ups plus the
/// scale-downs within it.
fn period_start(current: i32, history: &History, period_seconds: i32, now_ms: i64) -> i64 {
    i64::from(current)
        .saturating_sub(change_in_period(
            &history.scale_up_events,
            period_seconds,
            now_ms,
        ))
        .saturating_add(change_in_period(
            &history.scale_down_events,
            period_seconds,
            now_ms,
        ))
}

/// `calculateScaleUpLimitWithScalingRules`: the most replicas the scale-up policies allow
/// (`Max`: the largest; `Min`: the smallest; `Disabled`: current).
pub fn scale_up_limit(current: i32, history: &History, rules: &Rules, now_ms: i64) -> i32 {
    let proposals = rules.policies.iter().map(|p| {
        let start = period_start(current, history, p.period_seconds, now_ms);
        match p.kind {
            PolicyKind::Pods => clamp_i32(start.saturating_add(i64::from(p.value))),
            PolicyKind::Percent => {
                let grown = start as f64 * (1.0 + f64::from(p.value) / 100.0);
                grown.ceil() as i32
            }
        }
    });
    match rules.select_policy {
        SelectPolicy::Disabled => current,
        SelectPolicy::Min => proposals.fold(i32::MAX, i32::min),
        SelectPolicy::Max => proposals.fold(i32::MIN, i32::max),
    }
}

/// `calculateScaleDownLimitWithBehaviors`: the fewest replicas the scale-down policies
/// allow (`Max`: the smallest; `Min`: the largest; `Disabled`: current). Percent truncates.
pub fn scale_down_limit(current: i32, history: &History, rules: &Rules, now_ms: i64) -> i32 {
    let proposals = rules.policies.iter().map(|p| {
        let start = period_start(current, history, p.period_seconds, now_ms);
        match p.kind {
            PolicyKind::Pods => clamp_i32(start.saturating_sub(i64::from(p.value))),
            PolicyKind::Percent => (start as f64 * (1.0 - f64::from(p.value) / 100.0)) as i32,
        }
    });
    match rules.select_policy {
        SelectPolicy::Disabled => current,
        SelectPolicy::Min => proposals.fold(i32::MIN, i32::max),
        SelectPolicy::Max => proposals.fold(i32::MAX, i32::min),
    }
}

/// `convertDesiredReplicasWithBehaviorRate`: limits `desired` by the direction's policies
/// and by `[min, max]`, naming the binding limit.
pub fn convert_with_behavior_rate(
    current: i32,
    desired: i32,
    min: i32,
    max: i32,
    behavior: &Behavior,
    history: &History,
    now_ms: i64,
) -> Limited {
    if desired > current {
        let limit = scale_up_limit(current, history, &behavior.scale_up, now_ms).max(current);
        let upper = if max > limit {
            limited(
                limit,
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            )
        } else {
            limited(
                max,
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            )
        };
        if desired > upper.replicas {
            return upper;
        }
    } else if desired < current {
        let limit = scale_down_limit(current, history, &behavior.scale_down, now_ms).min(current);
        let lower = if min < limit {
            limited(
                limit,
                "ScaleDownLimit",
                "the desired replica count is decreasing faster than the maximum scale rate",
            )
        } else {
            limited(
                min,
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            )
        };
        if desired < lower.replicas {
            return lower;
        }
    }
    within(desired)
}

/// The legacy path (`normalizeDesiredReplicas`): stabilize over `window_ms`, then
/// [`convert_with_rules`]. Records the proposal in `history`.
pub fn normalize_legacy(
    history: &mut History,
    current: i32,
    proposal: i32,
    min: i32,
    max: i32,
    window_ms: i64,
    now_ms: i64,
) -> Normalized {
    let replicas = stabilize_legacy(&mut history.recommendations, proposal, now_ms, window_ms);
    let stabilized = if replicas != proposal {
        Stabilized {
            replicas,
            reason: "ScaleDownStabilized",
            message: DOWN_STABILIZED,
        }
    } else {
        Stabilized {
            replicas,
            reason: "ReadyForNewScale",
            message: READY,
        }
    };
    let limited = convert_with_rules(current, replicas, min, max);
    Normalized {
        stabilized,
        limited,
    }
}

/// The behavior path (`normalizeDesiredReplicasWithBehaviors`): stabilize over both
/// windows (scale-up `None` → 0; scale-down `None` → `default_down_window_ms`), then
/// [`convert_with_behavior_rate`]. Records the proposal in `history`.
#[allow(clippy::too_many_arguments)]
pub fn normalize_with_behavior(
    history: &mut History,
    behavior: &Behavior,
    current: i32,
    proposal: i32,
    min: i32,
    max: i32,
    default_down_window_ms: i64,
    now_ms: i64,
) -> Normalized {
    let up_window = behavior
        .scale_up
        .stabilization_window_seconds
        .map_or(0, seconds_ms);
    let down_window = behavior
        .scale_down
        .stabilization_window_seconds
        .map_or(default_down_window_ms, seconds_ms);
    let recs = &mut history.recommendations;
    let stabilized =
        stabilize_with_behavior(recs, proposal, current, up_window, down_window, now_ms);
    let limited = convert_with_behavior_rate(
        current,
        stabilized.replicas,
        min,
        max,
        behavior,
        history,
        now_ms,
    );
    Normalized {
        stabilized,
        limited,
    }
}

/// `storeScaleEvent`: with a behavior, records a change from `previous` to `new` replicas
/// in its direction's events, reusing the last slot older than the direction's longest
/// policy period, else appending. Without a behavior, or without a change, nothing.
pub fn store_scale_event(
    history: &mut History,
    behavior: Option<&Behavior>,
    previous: i32,
    new: i32,
    now_ms: i64,
) {
    let Some(behavior) = behavior else {
        return;
    };
    let (events, rules, change) = if new > previous {
        (
            &mut history.scale_up_events,
            &behavior.scale_up,
            i64::from(new) - i64::from(previous),
        )
    } else if new < previous {
        (
            &mut history.scale_down_events,
            &behavior.scale_down,
            i64::from(previous) - i64::from(new),
        )
    } else {
        return;
    };
    let longest = rules
        .policies
        .iter()
        .map(|p| p.period_seconds)
        .max()
        .unwrap_or(0)
        .max(0);
    let cutoff = now_ms.saturating_sub(seconds_ms(longest));
    let old = events.iter().rposition(|e| e.time_ms < cutoff);
    record(events, old, clamp_i32(change), now_ms);
}
