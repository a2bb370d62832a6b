//! Character generator benchmark: `cargo bench -p server --bench characters` (or
//! `scripts/bench characters`).
//!
//! Generates seeds 0–9,999 in one run and prints: the time per character (p50, p99, against
//! the same sheets serialised to JSON as a baseline measured in the same run), the SHA-256
//! over all 10,000 JSON sheets beside the one the debug-build test pins, the rules checker's
//! pass rate, unique full names, and blocklist hits. Prints a table; nothing here passes or
//! fails.

use std::collections::HashSet;
use std::time::Instant;

use factory::characters::{check, generate, names, Locks, SHEETS_0_TO_9999_SHA256};
use sha2::{Digest, Sha256};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    const N: u64 = 10_000;
    let locks = Locks::default();
    // Warm-up: the blocklist is folded once, on first use.
    let _ = generate(u64::MAX, &locks);
    let mut generate_us = Vec::with_capacity(N as usize);
    let mut json_us = Vec::with_capacity(N as usize);
    let mut hash = Sha256::new();
    let (mut passed, mut blocked) = (0, 0);
    let mut full_names = HashSet::new();
    let mut first_problem = None;
    for seed in 0..N {
        let t = Instant::now();
        let c = generate(seed, &locks).expect("no locks, no errors");
        generate_us.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        let json = serde_json::to_vec(&c).unwrap();
        json_us.push(t.elapsed().as_secs_f64() * 1e6);
        hash.update(&json);
        let problems = check::problems(&c);
        if problems.is_empty() {
            passed += 1;
        } else if first_problem.is_none() {
            first_problem = Some((seed, problems));
        }
        if names::blocked(&c.name) {
            blocked += 1;
        }
        full_names.insert(c.name);
    }
    let sorted = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v
    };
    let (generate_us, json_us) = (sorted(generate_us), sorted(json_us));
    let digest = format!("{:x}", hash.finalize());
    let rows = [
        ("characters generated", format!("{N} (seeds 0–{})", N - 1)),
        (
            "generate p50",
            format!("{:.0} µs", percentile(&generate_us, 0.5)),
        ),
        (
            "generate p99 (goal < 5 ms)",
            format!("{:.0} µs", percentile(&generate_us, 0.99)),
        ),
        (
            "baseline: JSON of the sheet p50",
            format!("{:.0} µs", percentile(&json_us, 0.5)),
        ),
        (
            "baseline: JSON of the sheet p99",
            format!("{:.0} µs", percentile(&json_us, 0.99)),
        ),
        ("SHA-256 of the 10,000 sheets", digest.clone()),
        (
            "same as the debug test's pin",
            if digest == SHEETS_0_TO_9999_SHA256 {
                "yes".into()
            } else {
                format!("NO (pinned {SHEETS_0_TO_9999_SHA256})")
            },
        ),
        (
            "rules checker pass rate",
            format!("{:.2}% ({passed}/{N})", 100.0 * passed as f64 / N as f64),
        ),
        (
            "unique full names (goal ≥ 99%)",
            format!(
                "{:.2}% ({}/{N})",
                100.0 * full_names.len() as f64 / N as f64,
                full_names.len()
            ),
        ),
        (
            "blocklist hits (goal 0)",
            format!(
                "{blocked} (blocklist: {} entries, near-spellings folded)",
                names::blocklist_len()
            ),
        ),
    ];
    println!("\nCharacter generator, release build\n");
    for (what, value) in rows {
        println!("{what:<36} {value}");
    }
    if let Some((seed, problems)) = first_problem {
        println!("\nfirst failing sheet: seed {seed}: {problems:?}");
    }
}
