use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;

use super::*;

fn lists(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect()
}

fn no_lists() -> BTreeMap<String, Vec<String>> {
    BTreeMap::new()
}

fn combinatorial(count: u32) -> Expansion {
    Expansion {
        mode: Mode::Combinatorial,
        count,
        batch_seed: 1,
        cap: 1000,
    }
}

fn all(source: &str) -> Vec<String> {
    all_with(source, &no_lists())
}

fn all_with(source: &str, wildcards: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    combinatorial(1)
        .expand(source, wildcards)
        .unwrap_or_else(|e| panic!("{source}: {e}"))
        .items
        .into_iter()
        .map(|i| i.prompt)
        .collect()
}

fn error(source: &str) -> String {
    error_with(source, &no_lists())
}

fn error_with(source: &str, wildcards: &BTreeMap<String, Vec<String>>) -> String {
    match combinatorial(1).expand(source, wildcards) {
        Ok(items) => panic!("{source} expanded to {:?}", items.items),
        Err(e) => e.to_string(),
    }
}

#[test]
fn plain_text_is_one_item_untouched() {
    assert_eq!(all("a cat"), ["a cat"]);
    assert_eq!(all(""), [""]);
}

#[test]
fn variants_expand_with_the_last_token_varying_fastest() {
    assert_eq!(
        all("a {red|blue} {cat|fox|owl}"),
        [
            "a red cat",
            "a red fox",
            "a red owl",
            "a blue cat",
            "a blue fox",
            "a blue owl"
        ]
    );
}

#[test]
fn variants_nest_at_any_depth() {
    assert_eq!(all("{a {b|c}|d}"), ["a b", "a c", "d"]);
    assert_eq!(all("{x{y{1|2}|z}|w}!"), ["xy1!", "xy2!", "xz!", "w!"]);
}

#[test]
fn weights_are_read_and_do_not_change_combinations() {
    assert_eq!(all("{2::a|b|0.5::c}"), ["a", "b", "c"]);
    let template = parse("{2::a|b}").unwrap();
    let parse::Node::Variant(v) = &template.nodes[0] else {
        panic!()
    };
    assert_eq!(
        v.options.iter().map(|o| o.weight).collect::<Vec<_>>(),
        [2.0, 1.0]
    );
    assert_eq!(v.options[0].label, "2::a");
}

#[test]
fn weights_steer_random_sampling() {
    let wildcards = no_lists();
    let expansion = Expansion {
        mode: Mode::Random,
        count: 2000,
        batch_seed: 9,
        cap: 5000,
    };
    let items = expansion.expand("{9::a|b}", &wildcards).unwrap().items;
    let a = items.iter().filter(|i| i.prompt == "a").count();
    assert!((1650..1950).contains(&a), "about 90% a: {a}");
    let zero = expansion.expand("{0::a|b}", &wildcards).unwrap().items;
    assert!(zero.iter().all(|i| i.prompt == "b"));
}

#[test]
fn multi_picks_are_every_order_of_different_options_joined_with_a_comma() {
    assert_eq!(
        all("{2$$a|b|c}"),
        ["a,b", "a,c", "b,a", "b,c", "c,a", "c,b"]
    );
    assert_eq!(
        all("{2$$a|a|b}"),
        ["a,b", "b,a"],
        "never the same option twice"
    );
}

#[test]
fn a_custom_joiner_sits_between_the_two_dollar_pairs_and_may_be_a_bar() {
    assert_eq!(all("{2$$ and $$a|b}"), ["a and b", "b and a"]);
    assert_eq!(
        all("{2$$|$$A|B|C}"),
        ["A|B", "A|C", "B|A", "B|C", "C|A", "C|B"]
    );
}

#[test]
fn ranges_pick_without_repetition_and_clamp_to_the_options() {
    assert_eq!(
        all("{1-2$$a|b|c}"),
        ["a", "b", "c", "a,b", "a,c", "b,a", "b,c", "c,a", "c,b"]
    );
    assert_eq!(all("{2-$$a|b}"), ["a,b", "b,a"]);
    assert_eq!(all("{-1$$a|b}"), ["a", "b"]);
    assert_eq!(all("{1-9$$a|b}"), ["a", "b", "a,b", "b,a"]);
    assert_eq!(all("{3$$a|b}"), ["a,b", "b,a"], "more than exist means all");
    assert_eq!(all("x {3-1$$a|b}"), ["x a", "x b", "x a,b", "x b,a"]);
}

#[test]
fn wildcards_resolve_hierarchical_names_recursively() {
    let wildcards = lists(&[
        ("colors/warm", &["red", "amber"]),
        ("animal", &["a __colors/warm__ fox", "an owl"]),
    ]);
    assert_eq!(
        all_with("__animal__ at dusk", &wildcards),
        ["a red fox at dusk", "a amber fox at dusk", "an owl at dusk"]
    );
}

#[test]
fn wildcard_values_may_hold_variants() {
    let wildcards = lists(&[("style", &["{oil|ink} painting", "photo"])]);
    assert_eq!(
        all_with("__style__", &wildcards),
        ["oil painting", "ink painting", "photo"]
    );
}

#[test]
fn escapes_give_the_character_itself() {
    assert_eq!(all(r"\{a\|b\} \_\_x\_\_ \\"), [r"{a|b} __x__ \"]);
    assert_eq!(all(r"\#1 at \$5, 100\%"), ["#1 at $5, 100%"]);
}

#[test]
fn an_escaped_prompt_expands_to_itself() {
    for text in [
        "a {red|blue} fox, __style__, 100% \\ #1 $5",
        "plain words",
        "{}|_#$%\\",
    ] {
        assert_eq!(all(&super::escape(text)), [text]);
    }
}

#[test]
fn a_hash_comments_out_the_rest_of_its_line() {
    assert_eq!(all("a cat # in a hat"), ["a cat "]);
    assert_eq!(
        all("a # note\nb"),
        ["a  \nb"],
        "a comment between text leaves a space"
    );
    assert_eq!(all("{\n  # the first\n  a\n| b}"), ["a\n", "b"]);
}

#[test]
fn an_options_leading_whitespace_is_dropped_and_its_trailing_whitespace_kept() {
    assert_eq!(all("{ a | b }"), ["a ", "b "]);
}

#[test]
fn a_brace_nobody_opened_is_text() {
    assert_eq!(all("a red}"), ["a red}"]);
    assert_eq!(all("{a|b}}"), ["a}", "b}"]);
}

#[test]
fn a_group_drops_texts_it_already_made() {
    assert_eq!(all("{a|a|b}"), ["a", "b"]);
    assert_eq!(all("{a|{a|b}}"), ["a", "b"]);
}

#[test]
fn a_multi_pick_of_a_wildcard_picks_its_values() {
    let wildcards = lists(&[("c", &["red", "blue", "green"])]);
    assert_eq!(
        all_with("{2$$__c__}", &wildcards),
        [
            "red,blue",
            "red,green",
            "blue,red",
            "blue,green",
            "green,red",
            "green,blue"
        ]
    );
}

#[test]
fn a_pattern_takes_the_values_of_every_list_it_matches_sorted_once() {
    let wildcards = lists(&[
        ("cats/big", &["tiger", "lion"]),
        ("cats/small", &["tabby", "lion"]),
        ("dogs", &["pug"]),
    ]);
    assert_eq!(
        all_with("__cats/*__", &wildcards),
        ["lion", "tabby", "tiger"]
    );
    assert!(error_with("__bird*__", &wildcards).contains("no wildcard list matches __bird*__"));
}

#[test]
fn per_image_choices_belong_to_random_batches() {
    let message = error("a {x|y} {~cat|dog}");
    assert!(
        message.starts_with("line 1, column 9: `~` and `@` choose one option per image"),
        "{message}"
    );
    let random = Expansion {
        mode: Mode::Random,
        count: 4,
        ..combinatorial(1)
    };
    assert_eq!(
        random
            .expand("{~cat|dog} __@c__", &lists(&[("c", &["red"])]))
            .unwrap()
            .items
            .len(),
        4
    );
}

#[test]
fn variables_and_wrap_commands_are_refused_with_a_way_out() {
    assert_eq!(
        error("a ${x=red}"),
        "line 1, column 3: variables (`${name=value}`, `${name}`) are not supported; write \\$ \
         for a dollar sign before a brace"
    );
    assert!(error("%{a $$ b}").contains("wrap commands"));
    assert_eq!(all("price $5, 100% wool"), ["price $5, 100% wool"]);
}

#[test]
fn attention_syntax_and_other_brackets_pass_through() {
    assert_eq!(
        all(r"(word:1.2) [a|b] \(x\) a|b snake__case {(c:1.1)|d}"),
        [
            r"(word:1.2) [a|b] \(x\) a|b snake__case (c:1.1)",
            r"(word:1.2) [a|b] \(x\) a|b snake__case d"
        ]
    );
    assert_eq!(all("____ and __ and _x_"), ["____ and __ and _x_"]);
}

#[test]
fn empty_options_and_groups_are_allowed() {
    assert_eq!(all("a {|big }cat"), ["a cat", "a big cat"]);
    assert_eq!(all("a {} cat"), ["a  cat"]);
    assert_eq!(all("{0$$a|b}"), [""]);
}

#[test]
fn an_unclosed_brace_is_a_positioned_error() {
    assert_eq!(
        error("a {red|blue"),
        "line 1, column 12: expected `|` or `}` to close the `{` opened at line 1, column 3"
    );
    assert_eq!(
        error("first line\n  {a|{b}"),
        "line 2, column 9: expected `|` or `}` to close the `{` opened at line 2, column 3"
    );
    assert!(
        error("{red|#f00}")
            .ends_with("(a `#` comments out the rest of its line; write \\# for the character)"),
        "{}",
        error("{red|#f00}")
    );
}

#[test]
fn an_unknown_wildcard_is_an_error_at_its_position() {
    assert_eq!(
        error("a __colour__ fox"),
        "line 1, column 3: unknown wildcard __colour__: create a list on the Wildcards page"
    );
    let wildcards = lists(&[("a", &["__b__"])]);
    assert_eq!(
        error_with("x __a__", &wildcards),
        "line 1, column 3: __a__ uses __b__: unknown wildcard __b__"
    );
}

#[test]
fn a_wildcard_cycle_is_an_error_not_a_hang() {
    let wildcards = lists(&[("a", &["x __b__"]), ("b", &["{y|__a__}"])]);
    assert_eq!(
        error_with("start __a__", &wildcards),
        "line 1, column 7: wildcard cycle: __a__ uses __b__ uses __a__; a list cannot use itself"
    );
    let selfish = lists(&[("me", &["__me__"])]);
    assert!(error_with("__me__", &selfish).contains("__me__ uses __me__"));
}

#[test]
fn a_broken_wildcard_value_is_reported_at_the_reference() {
    let wildcards = lists(&[("w", &["ok", "{bad"])]);
    assert_eq!(
        error_with("x __w__", &wildcards),
        "line 1, column 3: in __w__, value 2 (“{bad”), line 1, column 5: expected `|` or `}` to close the `{` opened at line 1, column 1"
    );
}

#[test]
fn a_prompt_past_the_cap_is_an_error_and_nothing_is_enumerated() {
    let huge = "{a|b|c|d|e|f|g|h|i|j}".repeat(30);
    let message = error(&huge);
    assert!(
        message.contains("more than 18 quintillion items"),
        "{message}"
    );
    let expansion = Expansion {
        cap: 5,
        ..combinatorial(1)
    };
    assert_eq!(
        expansion
            .expand("{a|b|c}", &no_lists())
            .unwrap()
            .items
            .len(),
        3
    );
    let err = Expansion {
        cap: 5,
        ..combinatorial(2)
    }
    .expand("{a|b|c}", &no_lists())
    .unwrap_err();
    assert_eq!(
        err.message,
        "this expands to 6 items (3 combinations × 2 images), over the limit of 5; remove options, \
         use random mode with a count, or raise max_items"
    );
}

#[test]
fn bindings_record_each_tokens_choice_and_the_repeat() {
    let wildcards = lists(&[("c", &["red", "blue"])]);
    let items = combinatorial(2)
        .expand("{big|small} __c__ {2$$x|y|z}", &wildcards)
        .unwrap();
    assert_eq!(items.items.len(), 2 * 2 * 6 * 2);
    let last = items.items.last().unwrap();
    assert_eq!(last.prompt, "small blue z,y");
    let b = &last.bindings;
    assert_eq!(
        b["t0"],
        Binding {
            index: vec![1],
            value: "small".into()
        }
    );
    assert_eq!(b["t1"].value, "blue");
    assert_eq!(
        b["t2"],
        Binding {
            index: vec![2, 1],
            value: "z,y".into()
        }
    );
    assert_eq!(
        b[REPEAT_KEY],
        Binding {
            index: vec![1],
            value: "2".into()
        }
    );
    let labels: Vec<&str> = items.tokens.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, ["{big|small}", "__c__", "{2$$x|y|z}"]);
}

#[test]
fn tokens_inside_wildcard_values_are_keyed_under_their_wildcard() {
    let wildcards = lists(&[("w", &["{p|q}"])]);
    let items = combinatorial(1).expand("__w__", &wildcards).unwrap().items;
    assert_eq!(items[1].bindings["t0/t0"].value, "q");
    assert_eq!(items[1].bindings["t0"].value, "{p|q}");
}

#[test]
fn random_mode_is_deterministic_from_the_batch_seed() {
    let wildcards = no_lists();
    let expansion = Expansion {
        mode: Mode::Random,
        count: 20,
        batch_seed: 77,
        cap: 1000,
    };
    let a = expansion
        .expand("{a|b|c} {1-2$$x|y|z}", &wildcards)
        .unwrap();
    let b = expansion
        .expand("{a|b|c} {1-2$$x|y|z}", &wildcards)
        .unwrap();
    assert_eq!(a.items, b.items);
    let other = Expansion {
        batch_seed: 78,
        ..expansion
    }
    .expand("{a|b|c} {1-2$$x|y|z}", &wildcards)
    .unwrap();
    assert_ne!(a.items, other.items);
}

#[test]
fn the_preview_counts_and_shows_the_first_prompts() {
    let preview = combinatorial(1)
        .preview("a {red|blue} {cat|fox|owl}", &no_lists(), 3)
        .unwrap();
    assert_eq!(preview.total, 6);
    assert_eq!(preview.examples, ["a red cat", "a red fox", "a red owl"]);
}

#[test]
fn seeds_depend_on_the_batch_seed_and_bindings_only() {
    let items = combinatorial(1)
        .expand("{a|b} {c|d}", &no_lists())
        .unwrap()
        .items;
    let seeds: Vec<i64> = items.iter().map(|i| derive_seed(5, &i.bindings)).collect();
    let distinct: HashSet<i64> = seeds.iter().copied().collect();
    assert_eq!(distinct.len(), 4);
    assert!(seeds.iter().all(|s| (0..1i64 << 32).contains(s)));
    assert_ne!(
        derive_seed(6, &items[0].bindings),
        seeds[0],
        "another batch seed"
    );
}

fn option_text() -> impl Strategy<Value = String> {
    "[a-z]{1,4}"
}

/// A template of 1-3 variants with 1-4 options each, and its expected count.
fn variant_template() -> impl Strategy<Value = (String, u64)> {
    prop::collection::vec(prop::collection::btree_set(option_text(), 1..5), 1..4).prop_map(
        |groups| {
            let count = groups.iter().map(|g| g.len() as u64).product();
            let text = groups
                .iter()
                .map(|g| format!("{{{}}}", g.iter().cloned().collect::<Vec<_>>().join("|")))
                .collect::<Vec<_>>()
                .join(" ");
            (text, count)
        },
    )
}

proptest! {
    #[test]
    fn combinatorial_count_is_the_product_of_choices_and_items_are_distinct(
        (text, expected) in variant_template()
    ) {
        let items = combinatorial(1).expand(&text, &no_lists()).unwrap().items;
        prop_assert_eq!(items.len() as u64, expected);
        let distinct: HashSet<&str> = items.iter().map(|i| i.prompt.as_str()).collect();
        prop_assert_eq!(distinct.len(), items.len());
    }

    #[test]
    fn multi_pick_counts_are_the_ordered_picks(n in 1usize..6, k in 0usize..6) {
        prop_assume!(k <= n);
        let options: Vec<String> = (0..n).map(|i| format!("o{i}")).collect();
        let text = format!("{{{k}$${}}}", options.join("|"));
        let items = combinatorial(1).expand(&text, &no_lists()).unwrap().items;
        let ordered = (0..k).fold(1u64, |acc, i| acc * (n - i) as u64);
        prop_assert_eq!(items.len() as u64, ordered);
    }

    #[test]
    fn the_same_seed_gives_the_same_items(seed in any::<i64>(), (text, _) in variant_template()) {
        let expansion = Expansion { mode: Mode::Random, count: 8, batch_seed: seed, cap: 100 };
        let a = expansion.expand(&text, &no_lists()).unwrap();
        let b = expansion.expand(&text, &no_lists()).unwrap();
        prop_assert_eq!(a.items, b.items);
    }

    #[test]
    fn item_seeds_do_not_depend_on_order(
        seed in any::<i64>(),
        (text, _) in variant_template(),
        rotation in 0usize..64,
    ) {
        let items = combinatorial(1).expand(&text, &no_lists()).unwrap().items;
        let in_order: Vec<(String, i64)> = items
            .iter()
            .map(|i| (i.prompt.clone(), derive_seed(seed, &i.bindings)))
            .collect();
        let mut reordered = items.clone();
        let by = rotation % reordered.len();
        reordered.rotate_left(by);
        reordered.reverse();
        for item in &reordered {
            let expected = in_order.iter().find(|(p, _)| *p == item.prompt).unwrap().1;
            prop_assert_eq!(derive_seed(seed, &item.bindings), expected);
        }
    }

    /// The fuzz target: arbitrary text never panics and never hangs; it parses or errors at a
    /// position inside the text.
    #[test]
    fn arbitrary_text_never_panics(text in "(?s).{0,200}") {
        check_arbitrary(&text);
    }

    #[test]
    fn arbitrary_syntax_soup_never_panics(
        parts in prop::collection::vec(
            prop::sample::select(vec![
                "{", "}", "|", "$$", "::", "__", "\\", "2", "-", "a", " ", "__w__", "__x__", "3-1", "\n", "é",
            ]),
            0..80,
        )
    ) {
        check_arbitrary(&parts.concat());
    }
}

fn check_arbitrary(text: &str) {
    let wildcards = lists(&[("w", &["{a|b}", "__x__"]), ("x", &["c", "{2$$d|e|f}"])]);
    let expansion = Expansion {
        cap: 10_000,
        ..combinatorial(1)
    };
    match expansion.preview(text, &wildcards, 3) {
        Ok(preview) => assert!(preview.total <= 10_000),
        Err(e) => {
            assert!(e.offset <= text.len(), "{e:?}");
            assert!(e.line >= 1 && e.column >= 1);
        }
    }
    let random = Expansion {
        mode: Mode::Random,
        count: 3,
        batch_seed: 1,
        cap: 10,
    };
    let _ = random.expand(text, &wildcards);
}
