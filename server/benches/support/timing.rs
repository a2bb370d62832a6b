//! Timing shared by the benchmarks: the median and the worst of a few runs, in milliseconds.

use std::time::Instant;

/// Runs `f` `runs` times: (p50, worst) in ms.
pub fn p50_worst(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() - 1])
}
