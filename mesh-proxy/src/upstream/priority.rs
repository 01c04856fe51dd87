//! Envoy's priority load: how traffic divides between priority levels by health.
//!
//! Each level's health is its healthy share × the overprovisioning factor 1.4, capped
//! at 100%, so a level keeps all of its traffic until fewer than ~71% of its hosts are
//! healthy. Load goes to the highest priority (0) up to its health and spills to the
//! next level with the rest; when the levels' healths add up to less than 100% the
//! loads are scaled up to fill 100%. A level is in panic (balances across all its
//! hosts) when the normalised total health is under 100% and its own healthy share is
//! under `healthy_panic_threshold`; when every level is in panic, load follows host
//! counts instead of health.

/// Envoy's default `overprovisioning_factor`, in percent.
const OVERPROVISIONING: usize = 140;

/// One priority level's hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LevelHealth {
    pub(crate) total: usize,
    pub(crate) healthy: usize,
}

/// Share of traffic (percent) each level gets, and whether it balances in panic mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LevelLoad {
    pub(crate) percent: u32,
    pub(crate) panic: bool,
}

pub(crate) fn loads(levels: &[LevelHealth], panic_threshold: u8) -> Vec<LevelLoad> {
    let health: Vec<usize> = levels
        .iter()
        .map(|l| {
            (OVERPROVISIONING * l.healthy)
                .checked_div(l.total)
                .unwrap_or(0)
                .min(100)
        })
        .collect();
    let normalized = health.iter().sum::<usize>().min(100);
    let panic: Vec<bool> = levels
        .iter()
        .map(|l| normalized < 100 && l.healthy * 100 < l.total * usize::from(panic_threshold))
        .collect();

    let mut percents = vec![0usize; levels.len()];
    if levels.is_empty() {
        return Vec::new();
    }
    if panic.iter().all(|p| *p) || normalized == 0 {
        // Total panic: spread by host count, as Envoy does.
        // No hosts at all leaves every share 0; the rounding fix-up below gives level 0 all of it.
        let hosts: usize = levels.iter().map(|l| l.total).sum();
        for (p, l) in percents.iter_mut().zip(levels) {
            *p = (100 * l.total).checked_div(hosts).unwrap_or(0);
        }
    } else {
        let mut remaining = 100usize;
        for (p, h) in percents.iter_mut().zip(&health) {
            *p = (h * 100 / normalized).min(remaining);
            remaining -= *p;
        }
    }
    // Integer rounding leaves a few percent unassigned: give them to the first level
    // that takes traffic, so the shares always add up to 100.
    let short = 100 - percents.iter().sum::<usize>().min(100);
    let first = percents.iter().position(|p| *p > 0).unwrap_or(0);
    if let Some(p) = percents.get_mut(first) {
        *p += short;
    }
    percents
        .into_iter()
        .zip(panic)
        .map(|(percent, panic)| LevelLoad {
            percent: percent as u32,
            panic,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(total: usize, healthy: usize) -> LevelHealth {
        LevelHealth { total, healthy }
    }

    fn percents(levels: &[LevelHealth]) -> Vec<u32> {
        loads(levels, 50).iter().map(|l| l.percent).collect()
    }

    #[test]
    fn a_healthy_first_level_takes_everything() {
        assert_eq!(percents(&[l(4, 4), l(2, 2)]), [100, 0]);
        // 3 of 4 healthy × 1.4 = 105% → still all of it.
        assert_eq!(percents(&[l(4, 3), l(2, 2)]), [100, 0]);
    }

    #[test]
    fn load_spills_over_by_overprovisioned_health() {
        // 1 of 2 healthy: 70% stays, 30% spills (Envoy's documented example).
        assert_eq!(percents(&[l(2, 1), l(2, 2)]), [70, 30]);
        assert_eq!(percents(&[l(2, 0), l(2, 2)]), [0, 100]);
        // Three levels: 0.7 + 0.28 + rest.
        assert_eq!(percents(&[l(10, 5), l(10, 2), l(10, 10)]), [70, 28, 2]);
    }

    #[test]
    fn shares_scale_up_when_total_health_is_low_and_panic_is_per_level() {
        // 1/4 healthy (35%) + 1/4 healthy (35%) = 70% normalised → 50/50, both in panic.
        let got = loads(&[l(4, 1), l(4, 1)], 50);
        assert_eq!(got.iter().map(|x| x.percent).sum::<u32>(), 100);
        assert!(got.iter().all(|x| x.panic), "{got:?}");
        // 3/5 healthy (84%) is not under the 50% threshold; 0/5 is.
        let got = loads(&[l(5, 3), l(5, 0)], 50);
        assert_eq!(
            got,
            [
                LevelLoad {
                    percent: 100,
                    panic: false
                },
                LevelLoad {
                    percent: 0,
                    panic: true
                }
            ]
        );
    }

    #[test]
    fn nothing_healthy_spreads_by_host_count() {
        assert_eq!(percents(&[l(3, 0), l(1, 0)]), [75, 25]);
        assert_eq!(percents(&[l(0, 0)]), [100]);
    }

    #[test]
    fn one_level_panics_below_the_threshold_only() {
        assert_eq!(
            loads(&[l(4, 2)], 50),
            [LevelLoad {
                percent: 100,
                panic: false
            }]
        );
        assert_eq!(
            loads(&[l(4, 1)], 50),
            [LevelLoad {
                percent: 100,
                panic: true
            }]
        );
        assert_eq!(
            loads(&[l(4, 0)], 0),
            [LevelLoad {
                percent: 100,
                panic: false
            }]
        );
    }
}
