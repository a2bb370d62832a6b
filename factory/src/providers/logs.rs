//! What a model's log says about how far it has come: hosted models print progress bars
//! (`tqdm`'s ` 50%|█████     | 2/4`) into the logs their providers pass on.

/// The last progress bar in a model's log (`" 50%|█████     | 2/4"`), as 0..=1, and the last
/// line of the log.
pub fn progress_of(logs: &str) -> (Option<f32>, Option<String>) {
    let last_line = logs
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(|l| l.chars().take(200).collect::<String>());
    let percent = logs.rmatch_indices("%|").find_map(|(i, _)| {
        let before = &logs[..i];
        let digits: String = before
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        digits.parse::<f32>().ok().filter(|p| *p <= 100.0)
    });
    (percent.map(|p| p / 100.0), last_line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_progress_bar_of_the_log_is_the_progress() {
        let logs = "Using seed: 7\n  0%|          | 0/4 [00:00<?, ?it/s]\n 50%|█████     | 2/4\n";
        let (progress, message) = progress_of(logs);
        assert_eq!(progress, Some(0.5));
        assert_eq!(message.as_deref(), Some("50%|█████     | 2/4"));
        assert_eq!(progress_of("loading weights").0, None);
    }
}
