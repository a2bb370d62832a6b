//! The graph's checks and the keys' promises: stable, blind to names and positions, and
//! changed by exactly what changes a step's result.

use serde_json::json;

use super::*;

/// generate -> variations -> contact sheet, and a crop of the first picture beside it.
fn sample() -> Graph {
    serde_json::from_value(json!({"steps": [
        {"name": "hero", "kind": "generate", "provider": "local", "model": "aurora",
         "prompt": "a lighthouse at dusk", "params": {"width": 64, "height": 64}},
        {"name": "more", "kind": "variations", "provider": "local", "model": "waves",
         "prompt": "same, in fog", "count": 3,
         "inputs": {"image": [{"step": "hero", "output": "image"}]}},
        {"name": "sheet", "kind": "contact_sheet", "columns": 2, "title": "Lighthouses",
         "inputs": {"images": [{"step": "hero", "output": "image"},
                               {"step": "more", "output": "images"}]}},
        {"name": "thumb", "kind": "crop_resize", "width": 32, "height": 32, "fit": "cover",
         "inputs": {"image": [{"step": "hero", "output": "image"}]}}
    ]}))
    .unwrap()
}

fn no_versions(_: &str, _: &str) -> Option<String> {
    None
}

fn keys_with(graph: &Graph, run_seed: i64, run_id: i64) -> Vec<String> {
    let order = graph.check().unwrap();
    let inputs = KeyInputs {
        run_seed,
        run_id,
        model_version: &no_versions,
        input_picture: None,
    };
    plan(graph, &order, &inputs)
        .into_iter()
        .map(|p| p.key.to_string())
        .collect()
}

fn keys(graph: &Graph) -> Vec<String> {
    keys_with(graph, 42, 1)
}

/// Which steps' keys differ between two plans of graphs with the same step names.
fn changed(before: &Graph, after: &Graph) -> Vec<String> {
    let (a, b) = (keys(before), keys(after));
    let mut names: Vec<String> = after
        .steps
        .iter()
        .enumerate()
        .filter(|(i, step)| {
            let j = before.index_of(&step.name).unwrap();
            a[j] != b[*i]
        })
        .map(|(_, step)| step.name.clone())
        .collect();
    names.sort();
    names
}

fn set(graph: &mut Graph, name: &str, edit: impl FnOnce(&mut Step)) {
    let i = graph.index_of(name).unwrap();
    edit(&mut graph.steps[i]);
}

#[test]
fn the_keys_are_pinned_so_an_accidental_change_of_the_hashing_is_caught() {
    assert_eq!(
        keys(&sample()),
        [
            "e4b0982bae19ee6d5cf15e4d5a6cb9a6bdd15621ed424f0b271a499daf65b4b5",
            "217325b2eeca942822d6648357b43df5e1e197381aeb9bc8d0840f844ca5c921",
            "5d705dfc26d33871d9e2ee33c21e0d12c564eaa810ce97faed0dbf5ef6e113ea",
            "010befb6c8b57b790e044bd9bb559d64b630ad71e408adc45ef1ead59f383e66",
        ]
    );
    let order = sample().check().unwrap();
    let inputs = KeyInputs {
        run_seed: 42,
        run_id: 1,
        model_version: &no_versions,
        input_picture: None,
    };
    let seeds: Vec<Option<i64>> = plan(&sample(), &order, &inputs)
        .into_iter()
        .map(|p| p.seed)
        .collect();
    assert_eq!(seeds, [Some(2837251250), Some(4077847660), None, None]);
    assert_eq!(keys::variation_seed(7, 0), 1053695108);
    assert_ne!(keys::variation_seed(7, 1), keys::variation_seed(7, 0));
}

#[test]
fn renaming_and_reordering_steps_changes_no_key() {
    let before = sample();
    let mut after = sample();
    after.steps.reverse();
    let renamed = |name: &str| format!("step {}", name.chars().rev().collect::<String>());
    for step in &mut after.steps {
        step.name = renamed(&step.name);
        for links in step.inputs.values_mut() {
            for link in links {
                link.step = renamed(&link.step);
            }
        }
    }
    let (a, b) = (keys(&before), keys(&after));
    for (i, step) in before.steps.iter().enumerate() {
        let j = after.index_of(&renamed(&step.name)).unwrap();
        assert_eq!(a[i], b[j], "{}", step.name);
    }
}

#[test]
fn an_edit_changes_the_keys_of_that_step_and_the_steps_after_it_only() {
    let base = sample();
    // The variations' prompt: that branch and the sheet that shows it.
    let mut edited = sample();
    set(&mut edited, "more", |s| {
        if let StepKind::Variations { call, .. } = &mut s.kind {
            call.prompt.push_str(", at night");
        }
    });
    assert_eq!(changed(&base, &edited), ["more", "sheet"]);

    // Downstream only: the sheet's title.
    let mut edited = sample();
    set(&mut edited, "sheet", |s| {
        if let StepKind::ContactSheet { title, .. } = &mut s.kind {
            *title = "Lights".into();
        }
    });
    assert_eq!(changed(&base, &edited), ["sheet"]);

    // The first step's model: everything.
    let mut edited = sample();
    set(&mut edited, "hero", |s| {
        if let StepKind::Generate { call } = &mut s.kind {
            call.model = "waves".into();
        }
    });
    assert_eq!(changed(&base, &edited), ["hero", "more", "sheet", "thumb"]);

    // Parameters written another way are the same parameters.
    let mut edited = sample();
    set(&mut edited, "hero", |s| {
        if let StepKind::Generate { call } = &mut s.kind {
            call.params = json!({"height": 64.0, "width": 64})
                .as_object()
                .unwrap()
                .clone();
        }
    });
    assert!(changed(&base, &edited).is_empty());
}

#[test]
fn seeds_follow_the_run_seed_unless_fixed_and_always_run_steps_never_match_another_run() {
    let base = sample();
    let (a, b) = (keys_with(&base, 42, 1), keys_with(&base, 43, 1));
    assert!(
        a.iter().zip(&b).all(|(x, y)| x != y),
        "a new run seed, new pictures"
    );
    assert_eq!(
        keys_with(&base, 42, 1),
        keys_with(&base, 42, 2),
        "same seed, same keys"
    );

    let mut fixed = sample();
    set(&mut fixed, "hero", |s| {
        s.seed = SeedRule::Fixed { seed: 1234 }
    });
    let (a, b) = (keys_with(&fixed, 42, 1), keys_with(&fixed, 43, 1));
    assert_eq!(a[0], b[0], "a fixed seed ignores the run seed");
    assert_eq!(a[3], b[3], "and so does the crop of its picture");
    assert_ne!(a[1], b[1], "the variations still follow the run seed");

    let mut always = sample();
    set(&mut always, "more", |s| s.always_run = true);
    let (a, b) = (keys_with(&always, 42, 1), keys_with(&always, 42, 2));
    assert_eq!((a[0] == b[0], a[3] == b[3]), (true, true));
    assert_ne!(a[1], b[1], "an always-run step is its run's own");
    assert_ne!(a[2], b[2], "and so is what comes after it");
}

#[test]
fn a_models_reported_version_is_part_of_its_steps_key() {
    let graph = sample();
    let order = graph.check().unwrap();
    let plan_with = |version: &'static str| {
        let versions = move |_: &str, model: &str| (model == "waves").then(|| version.to_string());
        plan(
            &graph,
            &order,
            &KeyInputs {
                run_seed: 42,
                run_id: 1,
                model_version: &versions,
                input_picture: None,
            },
        )
    };
    let (a, b) = (plan_with("v1"), plan_with("v2"));
    let same: Vec<bool> = a.iter().zip(&b).map(|(x, y)| x.key == y.key).collect();
    assert_eq!(same, [true, false, false, true]);
}

#[test]
fn cycles_type_mismatches_and_dangling_inputs_are_refused_naming_the_step_and_port() {
    let mut cycle = sample();
    set(&mut cycle, "hero", |s| {
        s.kind = StepKind::Upscale {
            how: Upscale::Lanczos { factor: 2.0 },
        };
        s.inputs.insert(
            "image".into(),
            vec![Link {
                step: "thumb".into(),
                output: "image".into(),
            }],
        );
    });
    let errors = cycle.check().unwrap_err();
    assert_eq!(
        errors,
        [GraphError::Cycle {
            steps: vec!["hero".into(), "thumb".into()]
        }]
    );
    assert!(
        errors[0].to_string().contains("“hero”, “thumb”"),
        "{}",
        errors[0]
    );

    let bad: Graph = serde_json::from_value(json!({"steps": [
        {"name": "a", "kind": "generate", "provider": "local", "model": "aurora", "prompt": " "},
        {"name": "b", "kind": "variations", "provider": "local", "model": "waves",
         "prompt": "x", "count": 40, "inputs": {"image": [{"step": "a", "output": "image"}]}},
        {"name": "c", "kind": "image_to_image", "provider": "local", "model": "waves",
         "prompt": "x", "inputs": {"image": [{"step": "b", "output": "images"}]}},
        {"name": "d", "kind": "crop_resize", "width": 10, "height": 10,
         "inputs": {"image": [{"step": "nobody", "output": "image"}]}},
        {"name": "e", "kind": "crop_resize", "width": 10, "height": 10},
        {"name": "f", "kind": "generate", "provider": "local", "model": "aurora", "prompt": "x",
         "inputs": {"style": [{"step": "a", "output": "image"}]}},
        {"name": "g", "kind": "upscale", "method": "lanczos", "factor": 2,
         "inputs": {"image": [{"step": "a", "output": "picture"},
                              {"step": "f", "output": "image"}]}},
        {"name": "a", "kind": "contact_sheet", "columns": 2,
         "inputs": {"images": [{"step": "b", "output": "images"}]}}
    ]}))
    .unwrap();
    let messages: Vec<String> = bad
        .check()
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    for expected in [
        "step “a” needs a prompt",
        "step “b” makes 1 to 16 variations, not 40",
        "step “c”, input “image” takes image, but “b” gives images",
        "step “d”, input “image”: there is no step “nobody”",
        "step “e”, input “image” is not connected",
        "step “f” has no input “style” (it takes: nothing)",
        "step “g”, input “image” takes one link, not 2",
        "step “g”, input “image”: step “a” has no output “picture” (it has “image”)",
        "two steps are called “a”; names must differ",
    ] {
        assert!(
            messages.iter().any(|m| m == expected),
            "{expected}\nin {messages:#?}"
        );
    }
    assert_eq!(Graph::default().check().unwrap_err(), [GraphError::Empty]);
}

#[test]
fn the_order_puts_every_step_after_what_it_depends_on() {
    let mut graph = sample();
    graph.steps.reverse();
    let order = graph.check().unwrap();
    let names: Vec<&str> = order
        .iter()
        .map(|&i| graph.steps[i].name.as_str())
        .collect();
    assert_eq!(names, ["hero", "thumb", "more", "sheet"]);
}

#[test]
fn a_graph_reads_and_writes_as_the_same_json() {
    let graph = sample();
    let text = serde_json::to_string(&graph).unwrap();
    let back: Graph = serde_json::from_str(&text).unwrap();
    assert_eq!(back, graph);
    assert_eq!(
        keys::canonical(&json!({"b": [1.0, {"d": 2, "c": "x"}], "a": 0.5})),
        r#"{"a":0.5,"b":[1,{"c":"x","d":2}]}"#
    );
}
