//! The stand-in's executor: one prompt at a time, its nodes in dependency order, each step of
//! a sampler reported, pictures saved, the end recorded in the history.

use serde_json::{json, Map, Value};

use super::{Ctx, Queued};
use crate::testing::standin::result_png;

/// Nodes in an order where each comes after the nodes it links to.
fn execution_order(graph: &Map<String, Value>) -> Vec<String> {
    fn visit(id: &str, graph: &Map<String, Value>, done: &mut Vec<String>) {
        if done.iter().any(|d| d == id) {
            return;
        }
        for input in graph[id]["inputs"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, v)| v)
        {
            if let Some(target) = input
                .get(0)
                .and_then(Value::as_str)
                .filter(|t| graph.contains_key(*t))
            {
                if input.is_array() {
                    visit(target, graph, done);
                }
            }
        }
        done.push(id.to_string());
    }
    let mut done = Vec::new();
    for id in graph.keys() {
        visit(id, graph, &mut done);
    }
    done
}

/// Runs queued prompts one at a time, telling their client what happens.
pub(super) async fn work(ctx: Ctx) {
    loop {
        let next = {
            let mut s = ctx.shared.lock().unwrap();
            let next = s.pending.pop_front();
            s.running = next.clone();
            s.interrupt = false;
            next
        };
        let Some(prompt) = next else {
            ctx.wake.notified().await;
            continue;
        };
        let (outputs, messages) = run(&ctx, &prompt).await;
        let mut s = ctx.shared.lock().unwrap();
        let failed = messages.iter().any(|(kind, _)| kind != "execution_success");
        let entry = json!({
            "prompt": prompt.entry(),
            "outputs": outputs,
            "status": {"status_str": if failed { "error" } else { "success" }, "completed": !failed,
                       "messages": messages.iter().map(|(k, d)| json!([k, d])).collect::<Vec<_>>()},
            "meta": {}
        });
        s.history.insert(prompt.id.clone(), entry);
        s.running = None;
    }
}

/// One prompt's run: its outputs by node, and how it ended (for the history).
async fn run(ctx: &Ctx, prompt: &Queued) -> (Map<String, Value>, Vec<(String, Value)>) {
    let say = |kind: &str, data: Value| {
        let _ = ctx.said.send((
            prompt.client_id.clone(),
            json!({"type": kind, "data": data}),
        ));
    };
    let id = prompt.id.as_str();
    say("execution_start", json!({"prompt_id": id, "timestamp": 0}));
    say(
        "execution_cached",
        json!({"prompt_id": id, "nodes": [], "timestamp": 0}),
    );
    let graph = &prompt.graph;
    let mut outputs = Map::new();
    let mut ended = Vec::new();
    let text_of = |link: &Value| -> String {
        link.get(0)
            .and_then(Value::as_str)
            .map(|n| {
                graph[n]["inputs"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .unwrap_or_default()
    };
    let sampler = graph.values().find(|n| n["class_type"] == "KSampler");
    let prompt_text = sampler
        .map(|s| text_of(&s["inputs"]["positive"]))
        .unwrap_or_default();
    let seed = sampler
        .and_then(|s| s["inputs"]["seed"].as_u64())
        .unwrap_or(0) as i64;
    for node in execution_order(graph) {
        let class = graph[&node]["class_type"].as_str().unwrap_or_default();
        say(
            "executing",
            json!({"node": node, "display_node": node, "prompt_id": id}),
        );
        let fail = |message: &str| {
            let data = json!({"prompt_id": id, "node_id": node, "node_type": class, "executed": [],
                              "exception_message": message, "exception_type": "RuntimeError",
                              "traceback": [], "current_inputs": {}, "current_outputs": {}});
            ("execution_error".to_string(), data)
        };
        match class {
            "LoadImage" => {
                let name = graph[&node]["inputs"]["image"].as_str().unwrap_or_default();
                let known = ctx.shared.lock().unwrap().uploads.iter().any(|u| u == name);
                if !known {
                    let (kind, data) = fail(&format!("Invalid image file: {name}"));
                    say(&kind, data.clone());
                    ended.push((kind, data));
                    return (outputs, ended);
                }
            }
            "KSampler" => {
                let steps = graph[&node]["inputs"]["steps"].as_u64().unwrap_or(20);
                for step in 1..=steps {
                    tokio::time::sleep(ctx.step_time).await;
                    if ctx.shared.lock().unwrap().interrupt {
                        let data = json!({"prompt_id": id, "node_id": node, "node_type": class,
                                          "executed": []});
                        say("execution_interrupted", data.clone());
                        ended.push(("execution_interrupted".into(), data));
                        return (outputs, ended);
                    }
                    say(
                        "progress",
                        json!({"value": step, "max": steps, "prompt_id": id, "node": node}),
                    );
                }
                if prompt_text.contains("explode") {
                    let (kind, data) = fail("CUDA out of memory. Tried to allocate 2.00 GiB");
                    say(&kind, data.clone());
                    ended.push((kind, data));
                    return (outputs, ended);
                }
            }
            "SaveImage" | "PreviewImage" => {
                let kind = if class == "SaveImage" {
                    "output"
                } else {
                    "temp"
                };
                let side = graph
                    .values()
                    .find(|n| n["class_type"] == "EmptyLatentImage")
                    .and_then(|n| n["inputs"]["width"].as_u64())
                    .unwrap_or(512)
                    .clamp(8, 256) as u32;
                let png = result_png(&prompt_text, seed, side);
                let mut s = ctx.shared.lock().unwrap();
                let filename = format!("ComfyUI_{:05}_.png", s.files.len() + 1);
                s.files
                    .insert((kind.into(), String::new(), filename.clone()), png);
                drop(s);
                let images =
                    json!({"images": [{"filename": filename, "subfolder": "", "type": kind}]});
                outputs.insert(node.clone(), images.clone());
                say(
                    "executed",
                    json!({"node": node, "display_node": node, "output": images, "prompt_id": id}),
                );
            }
            _ => {}
        }
    }
    say("executing", json!({"node": null, "prompt_id": id}));
    let data = json!({"prompt_id": id, "timestamp": 0});
    say("execution_success", data.clone());
    ended.push(("execution_success".into(), data));
    (outputs, ended)
}
