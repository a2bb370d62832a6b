//! The ComfyUI adapter against the stand-in server, through the real queue and worker: a
//! workflow imported with its inputs marked (and refused, said plainly, when it cannot be
//! used), text-to-image and image-to-image with the graph queued as marked, progress heard on
//! the socket, a refusal and a failure in words, cancel of a waiting and of a running prompt,
//! and a prompt picked up after a restart without queueing it twice.

use std::sync::Arc;
use std::time::Duration;

use factory::jobs::JobState;
use factory::providers::comfyui::store;
use factory::providers::comfyui::workflow::{candidates, parse_graph};
use factory::providers::comfyui::{self, ComfyProvider, Mark, Role, Workflow};
use factory::providers::{
    Capability, ErrorKind, GenerationRequest, ParamKind, PollStatus, Provider, Providers,
    RequestRef, Submitted,
};
use factory::testing::comfyui_standin::{default_workflow, image_workflow, ComfyStandIn, SAMPLERS};
use factory::testing::eventually;
use reqwest::Url;
use serde_json::{json, Value};

use crate::queue::{request, setup_with_providers, start, wait_until_finished};

/// The marks the import suggests, taken as they are.
fn suggested(graph: &Value) -> Vec<Mark> {
    candidates(graph.as_object().unwrap())
        .into_iter()
        .filter_map(|c| {
            Some(Mark {
                node: c.node,
                input: c.input,
                role: c.suggested?,
            })
        })
        .collect()
}

fn text_to_image() -> Workflow {
    let graph = default_workflow();
    Workflow::new(
        "SD 1.5 basic",
        graph.as_object().unwrap().clone(),
        suggested(&graph),
    )
    .unwrap()
}

async fn connected(standin: &ComfyStandIn, workflows: Vec<Workflow>) -> Arc<ComfyProvider> {
    Arc::new(
        ComfyProvider::connect(Url::parse(&standin.base_url).unwrap(), workflows)
            .await
            .unwrap(),
    )
}

#[test]
fn an_imported_workflow_suggests_its_usual_inputs_and_refuses_what_it_cannot_use() {
    let graph = default_workflow();
    let marks = suggested(&graph);
    let role_of = |node: &str, input: &str| {
        marks
            .iter()
            .find(|m| m.node == node && m.input == input)
            .map(|m| m.role.clone())
    };
    // The sampler's positive conditioning is the prompt, its negative the negative prompt.
    assert_eq!(role_of("6", "text"), Some(Role::Prompt));
    assert_eq!(role_of("7", "text"), Some(Role::NegativePrompt));
    assert_eq!(role_of("3", "seed"), Some(Role::Seed));
    assert!(matches!(role_of("3", "steps"), Some(Role::Param { .. })));
    assert!(matches!(role_of("5", "width"), Some(Role::Param { .. })));
    assert_eq!(role_of("4", "ckpt_name"), None, "offered, not suggested");
    assert!(candidates(graph.as_object().unwrap())
        .iter()
        .any(|c| c.node == "4" && c.input == "ckpt_name"));
    assert!(
        !candidates(graph.as_object().unwrap())
            .iter()
            .any(|c| c.input == "model"),
        "links are not inputs a person can set"
    );

    // The editor's own format, not the API's, is refused with what to do.
    let ui = json!({"last_node_id": 9, "nodes": [], "links": [], "version": 0.4});
    let err = parse_graph(&ui.to_string()).unwrap_err();
    assert!(err.0.contains("Export (API)"), "{err}");
    let err = parse_graph("{\"3\": {\"class_type\": \"KSampler\",\n \"inputs\": {").unwrap_err();
    assert!(err.0.contains("line 2"), "{err}");
    let mut dangling = graph.clone();
    dangling["8"]["inputs"]["samples"] = json!(["42", 0]);
    let err = parse_graph(&dangling.to_string()).unwrap_err();
    assert!(
        err.0
            .contains("Node 8 input “samples” is linked to node 42"),
        "{err}"
    );

    let g = graph.as_object().unwrap().clone();
    let without_prompt: Vec<Mark> = marks
        .iter()
        .filter(|m| m.role != Role::Prompt)
        .cloned()
        .collect();
    let err = Workflow::new("x", g.clone(), without_prompt).unwrap_err();
    assert!(
        err.0.contains("Mark the input that takes the prompt"),
        "{err}"
    );
    let linked = vec![Mark {
        node: "3".into(),
        input: "model".into(),
        role: Role::Prompt,
    }];
    let err = Workflow::new("x", g.clone(), linked).unwrap_err();
    assert!(err.0.contains("linked to another node"), "{err}");
    let mut twice = marks.clone();
    twice.push(Mark {
        node: "5".into(),
        input: "height".into(),
        role: Role::Param {
            name: "steps".into(),
            label: "Steps".into(),
        },
    });
    let err = Workflow::new("x", g.clone(), twice).unwrap_err();
    assert!(
        err.0
            .contains("Two inputs are marked as the parameter “steps”"),
        "{err}"
    );
    let err = Workflow::new("a/b", g, marks).unwrap_err();
    assert!(err.0.contains("may hold letters"), "{err}");
}

#[test]
fn workflows_are_kept_as_files_and_a_broken_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let at = store::dir(dir.path());
    let flow = text_to_image();
    store::save(&at, &flow).unwrap();
    std::fs::write(at.join("broken.json"), "{ not json").unwrap();
    let (loaded, problems) = store::load_all(&at);
    assert_eq!(loaded, vec![flow.clone()]);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("broken.json"), "{problems:?}");
    // The version follows the graph and the marks.
    let mut edited = flow.clone();
    edited.graph["3"]["inputs"]["scheduler"] = json!("karras");
    assert_ne!(edited.version(), flow.version());
    assert_eq!(text_to_image().version(), flow.version());
    // A name that only a file name confuses with another is refused, and does not remove it.
    let twin = Workflow::new("SD 1_5 basic", flow.graph.clone(), flow.marks.clone()).unwrap();
    let err = store::save(&at, &twin).unwrap_err();
    assert!(
        err.0.contains("same file as the workflow “SD 1.5 basic”"),
        "{err}"
    );
    assert!(!store::remove(&at, &twin.name).unwrap());
    assert_eq!(store::load_all(&at).0, vec![flow.clone()]);
    assert!(store::remove(&at, &flow.name).unwrap());
    assert!(store::load_all(&at).0.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn workflows_become_models_typed_by_the_servers_catalog() {
    let standin = ComfyStandIn::start(Duration::from_millis(5)).await;
    let graph = image_workflow();
    let image = Workflow::new(
        "Restyle",
        graph.as_object().unwrap().clone(),
        suggested(&graph),
    )
    .unwrap();
    let provider = connected(&standin, vec![text_to_image(), image.clone()]).await;
    let info = provider.info();
    assert!(
        info.remote_queue,
        "the server keeps its queue across our restarts"
    );
    let basic = info.model("SD 1.5 basic").unwrap();
    assert_eq!(basic.capability, Capability::TextToImage);
    assert!(basic.negative_prompt);
    let param = |name: &str| {
        basic
            .params
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .kind
            .clone()
    };
    assert_eq!(
        param("sampler_name"),
        ParamKind::Choice {
            default: "euler".into(),
            values: SAMPLERS.map(String::from).to_vec()
        }
    );
    assert_eq!(
        param("width"),
        ParamKind::Integer {
            default: 512,
            min: 16,
            max: 16384,
            step: 8
        }
    );
    assert_eq!(
        param("steps"),
        ParamKind::Integer {
            default: 20,
            min: 1,
            max: 10000,
            step: 1
        }
    );
    let restyle = info.model("Restyle").unwrap();
    assert_eq!(restyle.capability, Capability::ImageToImage);
    assert_eq!(restyle.image_input.as_deref(), Some("image"));
    assert_eq!(provider.model_version("Restyle"), Some(image.version()));

    // The app's start-up: the workflows in the data directory, or a reason.
    let data = tempfile::tempdir().unwrap();
    store::save(&store::dir(data.path()), &text_to_image()).unwrap();
    let providers = Providers::builtin();
    let (said, problems) = comfyui::install(&providers, &standin.base_url, data.path())
        .await
        .unwrap();
    assert!(said.contains("1 workflow"), "{said}");
    assert!(problems.is_empty());
    assert!(providers.get(comfyui::ID).is_some());
    let (listener, addr) = factory::testing::standin::bind().await;
    drop(listener);
    let err = comfyui::install(&providers, &format!("http://{addr}"), data.path())
        .await
        .unwrap_err();
    assert!(err.contains("is it running?"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn text_to_image_then_image_to_image_through_the_queue() {
    let standin = ComfyStandIn::start(Duration::from_millis(30)).await;
    let graph = image_workflow();
    let restyle = Workflow::new(
        "Restyle",
        graph.as_object().unwrap().clone(),
        suggested(&graph),
    )
    .unwrap();
    let provider = connected(&standin, vec![text_to_image(), restyle]).await;
    let setup = setup_with_providers(3, vec![provider]).await;
    let worker = start(&setup);
    let mut launch = request(
        &setup,
        comfyui::ID,
        "SD 1.5 basic",
        "a lighthouse at dusk",
        1,
    );
    launch.negative_prompt = "blurry".into();
    launch.params = json!({"steps": 8, "width": 256, "height": 256, "sampler_name": "ddim"})
        .as_object()
        .unwrap()
        .clone();
    let (batch, _) = setup.engine.launch(&launch).await.unwrap();
    let jobs = wait_until_finished(&setup, batch.id).await;
    assert_eq!(jobs[0].state(), JobState::Succeeded, "{:?}", jobs[0].error);
    assert!(
        standin.sockets_opened() >= 1,
        "it followed the prompt on the socket"
    );
    let made = factory::products::list_for_batch(&mut *setup.db.conn().await, batch.id)
        .await
        .unwrap();
    assert_eq!((made[0].width, made[0].height), (Some(256), Some(256)));
    let queued = &standin.queued()[0];
    assert_eq!(queued["6"]["inputs"]["text"], "a lighthouse at dusk");
    assert_eq!(queued["7"]["inputs"]["text"], "blurry");
    assert_eq!(queued["3"]["inputs"]["seed"], jobs[0].seed.unsigned_abs());
    assert_eq!(queued["3"]["inputs"]["steps"], 8);
    assert_eq!(queued["3"]["inputs"]["sampler_name"], "ddim");
    assert_eq!(queued["5"]["inputs"]["width"], 256);
    assert_eq!(
        queued["4"]["inputs"]["ckpt_name"], "v1-5-pruned-emaonly.safetensors",
        "unmarked: as imported"
    );

    // The picture made, restyled: uploaded first, then named in the LoadImage node.
    let mut again = request(&setup, comfyui::ID, "Restyle", "the lighthouse in snow", 1);
    again.input_image = Some(made[0].id);
    let (batch, _) = setup.engine.launch(&again).await.unwrap();
    let jobs = wait_until_finished(&setup, batch.id).await;
    assert_eq!(jobs[0].state(), JobState::Succeeded, "{:?}", jobs[0].error);
    let uploads = standin.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(
        standin.queued()[1]["10"]["inputs"]["image"],
        uploads[0].as_str()
    );
    let child = factory::products::list_for_batch(&mut *setup.db.conn().await, batch.id)
        .await
        .unwrap();
    assert_eq!(child[0].parent_id, Some(made[0].id));
    worker.shut_down(Duration::from_secs(1)).await;
}

fn generation(model: &str, prompt: &str, params: Value) -> GenerationRequest {
    GenerationRequest {
        model: model.into(),
        prompt: prompt.into(),
        negative_prompt: String::new(),
        seed: 7,
        params: params.as_object().unwrap().clone(),
        networks: Vec::new(),
        input_image: None,
        scene: None,
        made_from: None,
    }
}

async fn queue_one(provider: &ComfyProvider, request: &GenerationRequest) -> String {
    match provider.submit(request).await.unwrap() {
        Submitted::Queued { request_id } => request_id,
        Submitted::Finished(_) => panic!("ComfyUI queues"),
    }
}

async fn until_done(provider: &ComfyProvider, id: &str) -> PollStatus {
    eventually(Duration::from_secs(20), async || {
        let status = provider
            .poll(RequestRef {
                model: "SD 1.5 basic",
                request_id: id,
            })
            .await
            .unwrap();
        match status {
            PollStatus::Queued { .. } | PollStatus::Running { .. } => None,
            done => Some(done),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_workflow_and_a_failed_node_are_said_in_words() {
    let standin = ComfyStandIn::start(Duration::from_millis(5)).await;
    let provider = connected(&standin, vec![text_to_image()]).await;
    // Past the form's checks (a hand-edited job): the server's validation answers.
    let err = provider
        .submit(&generation("SD 1.5 basic", "x", json!({"steps": 20000})))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(
        err.message.contains("Prompt outputs failed validation"),
        "{err}"
    );
    assert!(
        err.message
            .contains("node 3 (KSampler): Value bigger than max"),
        "{err}"
    );
    let err = provider
        .submit(&generation("gone", "x", json!({})))
        .await
        .unwrap_err();
    assert!(
        err.message.contains("import it on the Settings page"),
        "{err}"
    );

    let id = queue_one(
        &provider,
        &generation("SD 1.5 basic", "explode", json!({"steps": 3})),
    )
    .await;
    let PollStatus::Failed(e) = until_done(&provider, &id).await else {
        panic!("the sampler fails")
    };
    assert!(
        e.message
            .contains("node 3 (KSampler) failed: CUDA out of memory"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_deletes_a_waiting_prompt_and_interrupts_the_running_one() {
    let standin = ComfyStandIn::start(Duration::from_millis(200)).await;
    let provider = connected(&standin, vec![text_to_image()]).await;
    let setup = setup_with_providers(3, vec![provider]).await;
    let worker = start(&setup);
    let launch = request(&setup, comfyui::ID, "SD 1.5 basic", "a slow lighthouse", 2);
    let (batch, jobs) = setup.engine.launch(&launch).await.unwrap();
    eventually(Duration::from_secs(10), async || {
        (standin.queued().len() == 2).then_some(())
    })
    .await;
    let waiting = eventually(Duration::from_secs(10), async || {
        let jobs = factory::jobs::queue::list_for_batch(&mut *setup.db.conn().await, batch.id)
            .await
            .unwrap();
        // The second one queued waits behind the first.
        let ids: Vec<String> = jobs
            .iter()
            .filter_map(|j| j.provider_request_id.clone())
            .collect();
        (ids.len() == 2).then_some(jobs)
    })
    .await;
    let order = standin.queued();
    let first_seed = order[0]["3"]["inputs"]["seed"].clone();
    let (running, pending): (Vec<_>, Vec<_>) = waiting
        .iter()
        .partition(|j| json!(j.seed.unsigned_abs()) == first_seed);
    setup.engine.cancel_job(pending[0].id).await.unwrap();
    setup.engine.cancel_job(running[0].id).await.unwrap();
    let done = wait_until_finished(&setup, batch.id).await;
    assert!(
        done.iter().all(|j| j.state() == JobState::Canceled),
        "{done:?}"
    );
    assert_eq!(
        standin.deleted(),
        vec![pending[0].provider_request_id.clone().unwrap()]
    );
    assert_eq!(standin.interrupts(), 1);
    drop(jobs);
    worker.shut_down(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prompt_queued_before_a_restart_is_picked_up_not_queued_again() {
    let standin = ComfyStandIn::start(Duration::from_millis(40)).await;
    let before = connected(&standin, vec![text_to_image()]).await;
    let id = queue_one(
        &before,
        &generation("SD 1.5 basic", "a tide pool", json!({"steps": 10})),
    )
    .await;
    drop(before);
    // A new process: another client id, so the socket says nothing of the old prompt.
    let after = connected(&standin, vec![text_to_image()]).await;
    let first = after
        .poll(RequestRef {
            model: "SD 1.5 basic",
            request_id: &id,
        })
        .await
        .unwrap();
    assert!(
        matches!(
            first,
            PollStatus::Running { .. } | PollStatus::Queued { .. }
        ),
        "{first:?}"
    );
    let PollStatus::Completed(outputs) = until_done(&after, &id).await else {
        panic!("the history has it")
    };
    let bytes = after.fetch(&outputs[0]).await.unwrap();
    assert!(factory::media::ImageFormat::sniff(&bytes).is_some());
    assert_eq!(standin.queued().len(), 1, "queued once");
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_is_heard_on_the_socket_with_the_node_at_work() {
    let standin = ComfyStandIn::start(Duration::from_millis(50)).await;
    let provider = connected(&standin, vec![text_to_image()]).await;
    let id = queue_one(
        &provider,
        &generation("SD 1.5 basic", "a slow tide", json!({"steps": 30})),
    )
    .await;
    let (progress, message) = eventually(Duration::from_secs(10), async || {
        match provider
            .poll(RequestRef {
                model: "SD 1.5 basic",
                request_id: &id,
            })
            .await
            .unwrap()
        {
            PollStatus::Running {
                progress: Some(p),
                message,
            } if p > 0.0 => Some((p, message)),
            _ => None,
        }
    })
    .await;
    assert!(progress < 1.0, "{progress}");
    assert_eq!(message.as_deref(), Some("KSampler (node 3)"));
    assert!(matches!(
        until_done(&provider, &id).await,
        PollStatus::Completed(_)
    ));
}
