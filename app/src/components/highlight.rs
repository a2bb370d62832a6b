//! The words a gallery search matched, marked in a prompt.

use leptos::prelude::*;

/// Splits `text` into runs, each marked when it is a word that contains one of `terms`
/// (lower-case, as the search reports them; a search also finds substrings, so "fox" marks
/// "foxes").
pub fn segments(text: &str, terms: &[String]) -> Vec<(String, bool)> {
    let mut runs: Vec<(String, bool)> = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, runs: &mut Vec<(String, bool)>| {
        if word.is_empty() {
            return;
        }
        let lower = word.to_lowercase();
        let hit = terms
            .iter()
            .any(|t| !t.is_empty() && lower.contains(t.as_str()));
        push(runs, std::mem::take(word), hit);
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut runs);
            push(&mut runs, c.to_string(), false);
        }
    }
    flush(&mut word, &mut runs);
    runs
}

/// Appends to the last run when it is marked the same way.
fn push(runs: &mut Vec<(String, bool)>, text: String, hit: bool) {
    match runs.last_mut() {
        Some((last, marked)) if *marked == hit => last.push_str(&text),
        _ => runs.push((text, hit)),
    }
}

/// `text`, with the words matching `terms` in `<mark>`.
#[component]
pub fn Highlighted(text: String, terms: Vec<String>) -> impl IntoView {
    segments(&text, &terms)
        .into_iter()
        .map(|(run, hit)| {
            if hit {
                view! { <mark class="rounded-sm bg-amber-200 px-0.5 text-stone-900" data-match>{run}</mark> }
                    .into_any()
            } else {
                run.into_any()
            }
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::segments;

    fn marked(text: &str, terms: &[&str]) -> Vec<String> {
        let terms: Vec<String> = terms.iter().map(|t| t.to_string()).collect();
        segments(text, &terms)
            .into_iter()
            .filter(|(_, hit)| *hit)
            .map(|(run, _)| run)
            .collect()
    }

    #[test]
    fn matching_words_are_marked_whatever_their_case_and_the_rest_is_kept() {
        assert_eq!(
            marked("A Red fox, red foxes", &["red", "fox"]),
            ["Red", "fox", "red", "foxes"]
        );
        let all: String = segments("a red, (fox)", &["fox".into()])
            .into_iter()
            .map(|(run, _)| run)
            .collect();
        assert_eq!(all, "a red, (fox)");
        assert!(marked("a cat", &[]).is_empty());
        assert_eq!(marked("renard rouge, 赤い狐", &["狐"]), ["赤い狐"]);
    }
}
