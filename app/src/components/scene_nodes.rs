//! The scene editor's forms: one fieldset per node (its name, parent and what its kind has:
//! a model's asset, transform and material; a light's type, colour, strength, position and
//! target; a camera's projection, position and target), editing the draft scene in place.

use leptos::prelude::*;

use crate::components::button;
use crate::components::field::{INPUT, LABEL};
use crate::dto::scenes::{
    CameraNode, CameraProjection, GroupNode, LightNode, LightType, MaterialOverride, ModelNode,
    Transform, Vec3,
};
use crate::dto::{SceneGraph, SceneNode};

const SMALL_INPUT: &str =
    "mt-1 block w-full rounded-md border border-stone-300 bg-white px-2 py-1 text-sm \
    focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/40 \
    dark:border-stone-700 dark:bg-stone-900";

/// One number, written back when it parses.
#[component]
fn NumberInput(
    id: String,
    label: &'static str,
    value: f64,
    on_set: Callback<f64>,
    #[prop(default = 0.1)] step: f64,
) -> impl IntoView {
    view! {
        <div>
            <label for=id.clone() class="block text-xs font-medium">{label}</label>
            <input id=id type="number" step=step.to_string() value=trim(value) class=SMALL_INPUT
                on:input=move |ev| {
                    if let Ok(v) = event_target_value(&ev).trim().parse::<f64>() {
                        if v.is_finite() {
                            on_set.run(v);
                        }
                    }
                } />
        </div>
    }
}

fn trim(v: f64) -> String {
    let text = format!("{v:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Three numbers under one legend (X, Y, Z).
#[component]
fn Vec3Input(
    id: String,
    legend: &'static str,
    value: Vec3,
    on_set: Callback<Vec3>,
) -> impl IntoView {
    let axes = ["X", "Y", "Z"];
    view! {
        <fieldset class="min-w-0">
            <legend class="text-sm font-medium">{legend}</legend>
            <div class="grid grid-cols-3 gap-2">
                {(0..3).map(|axis| {
                    let set = Callback::new(move |v: f64| {
                        let mut next = value;
                        next[axis] = v;
                        on_set.run(next);
                    });
                    // The latest value is in the draft; each field keeps its own text.
                    view! { <NumberInput id=format!("{id}-{}", axes[axis].to_lowercase()) label=axes[axis] value=value[axis] on_set=set /> }
                }).collect_view()}
            </div>
        </fieldset>
    }
}

fn srgb(linear: f64) -> f64 {
    if linear <= 0.003_130_8 {
        linear * 12.92
    } else {
        1.055 * linear.powf(1.0 / 2.4) - 0.055
    }
}

fn linear(srgb: f64) -> f64 {
    if srgb <= 0.04045 {
        srgb / 12.92
    } else {
        ((srgb + 0.055) / 1.055).powf(2.4)
    }
}

/// A linear colour as the `#rrggbb` a colour input shows.
pub fn hex(c: Vec3) -> String {
    let byte = |v: f64| (srgb(v.clamp(0.0, 1.0)) * 255.0).round() as u8;
    format!("#{:02x}{:02x}{:02x}", byte(c[0]), byte(c[1]), byte(c[2]))
}

/// `#rrggbb` back to a linear colour.
pub fn from_hex(text: &str) -> Option<Vec3> {
    let text = text.strip_prefix('#')?;
    if text.len() != 6 {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&text[i..i + 2], 16).ok();
    Some([
        linear(channel(0)? as f64 / 255.0),
        linear(channel(2)? as f64 / 255.0),
        linear(channel(4)? as f64 / 255.0),
    ])
}

/// A colour picker for a linear colour.
#[component]
pub fn ColorInput(
    id: String,
    label: &'static str,
    value: Vec3,
    on_set: Callback<Vec3>,
) -> impl IntoView {
    view! {
        <div>
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <input id=id type="color" value=hex(value) class="mt-1 h-9 w-16 rounded border border-stone-300 dark:border-stone-700"
                on:input=move |ev| {
                    if let Some(c) = from_hex(&event_target_value(&ev)) {
                        on_set.run(c);
                    }
                } />
        </div>
    }
}

/// A new node of `kind` named so that no other node has its name.
pub fn new_node(kind: &str, graph: &SceneGraph, first_asset: Option<i64>) -> Option<SceneNode> {
    let taken = |name: &str| graph.nodes.iter().any(|n| n.name() == name);
    let name = (1..)
        .map(|i| format!("{kind} {i}"))
        .find(|n| !taken(n))
        .expect("some name is free");
    Some(match kind {
        "model" => SceneNode::Model(ModelNode {
            name,
            parent: None,
            asset_id: first_asset?,
            transform: Transform::default(),
            material: None,
        }),
        "light" => SceneNode::Light(LightNode {
            name,
            parent: None,
            light: LightType::Point,
            color: [1.0; 3],
            strength: 500.0,
            position: [2.0, 3.0, 2.0],
            target: [0.0; 3],
            inner_cone: 20.0,
            outer_cone: 30.0,
        }),
        "camera" => SceneNode::Camera(CameraNode {
            name,
            parent: None,
            projection: CameraProjection::Perspective { fov: 40.0 },
            position: [3.0, 2.0, 5.0],
            target: [0.0; 3],
        }),
        _ => SceneNode::Group(GroupNode {
            name,
            parent: None,
            transform: Transform::default(),
        }),
    })
}

/// The form of node `index` of `draft`. `reshape` is bumped by a change that needs the form
/// drawn again (a light's or camera's type, a removal).
#[component]
pub fn NodeForm(
    index: usize,
    draft: RwSignal<SceneGraph>,
    assets: Vec<(i64, String)>,
    reshape: RwSignal<u32>,
) -> impl IntoView {
    let Some(node) = draft.with_untracked(|d| d.nodes.get(index).cloned()) else {
        return ().into_any();
    };
    let edit = move |change: Box<dyn Fn(&mut SceneNode)>| {
        draft.update(|d| {
            if let Some(n) = d.nodes.get_mut(index) {
                change(n)
            }
        })
    };
    let id = |field: &str| format!("node-{index}-{field}");
    let others: Vec<String> = draft.with_untracked(|d| {
        d.nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(_, n)| n.name().to_string())
            .collect()
    });
    let parent = match &node {
        SceneNode::Model(n) => n.parent.clone(),
        SceneNode::Light(n) => n.parent.clone(),
        SceneNode::Camera(n) => n.parent.clone(),
        SceneNode::Group(n) => n.parent.clone(),
    };
    let rename = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        edit(Box::new(move |n| match n {
            SceneNode::Model(m) => m.name = name.clone(),
            SceneNode::Light(l) => l.name = name.clone(),
            SceneNode::Camera(c) => c.name = name.clone(),
            SceneNode::Group(g) => g.name = name.clone(),
        }))
    };
    let reparent = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let parent = (!value.is_empty()).then_some(value);
        edit(Box::new(move |n| match n {
            SceneNode::Model(m) => m.parent = parent.clone(),
            SceneNode::Light(l) => l.parent = parent.clone(),
            SceneNode::Camera(c) => c.parent = parent.clone(),
            SceneNode::Group(g) => g.parent = parent.clone(),
        }))
    };
    let remove = move |_| {
        draft.update(|d| {
            if index < d.nodes.len() {
                d.nodes.remove(index);
            }
        });
        reshape.update(|v| *v += 1);
    };
    let kind = node.kind_label();
    let body = match node.clone() {
        SceneNode::Model(m) => model_fields(index, m, assets, edit).into_any(),
        SceneNode::Group(g) => transform_fields(index, g.transform, edit).into_any(),
        SceneNode::Light(l) => light_fields(index, l, edit, reshape).into_any(),
        SceneNode::Camera(c) => camera_fields(index, c, edit, reshape).into_any(),
    };
    view! {
        <fieldset class="rounded-lg border border-stone-200 p-3 dark:border-stone-800" data-node=index>
            <legend class="px-1 text-sm font-semibold">{format!("{kind} “{}”", node.name())}</legend>
            <div class="grid grid-cols-2 gap-3">
                <div>
                    <label for=id("name") class=LABEL>"Name"</label>
                    <input id=id("name") type="text" class=INPUT value=node.name().to_string() on:change=rename />
                </div>
                <div>
                    <label for=id("parent") class=LABEL>"Parent"</label>
                    <select id=id("parent") class=INPUT on:change=reparent>
                        <option value="" selected=parent.is_none()>"(scene root)"</option>
                        {others.into_iter().map(|name| {
                            let chosen = parent.as_deref() == Some(name.as_str());
                            view! { <option value=name.clone() selected=chosen>{name.clone()}</option> }
                        }).collect_view()}
                    </select>
                </div>
            </div>
            <div class="mt-3 space-y-3">{body}</div>
            <button type="button" class=format!("{} mt-3", button::secondary()) on:click=remove>
                {format!("Remove {}", node.name())}
            </button>
        </fieldset>
    }
    .into_any()
}

fn transform_fields(
    index: usize,
    t: Transform,
    edit: impl Fn(Box<dyn Fn(&mut SceneNode)>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let set = move |f: fn(&mut Transform, Vec3)| {
        Callback::new(move |v: Vec3| {
            edit(Box::new(move |n| match n {
                SceneNode::Model(m) => f(&mut m.transform, v),
                SceneNode::Group(g) => f(&mut g.transform, v),
                _ => {}
            }))
        })
    };
    view! {
        <Vec3Input id=format!("node-{index}-translation") legend="Position (m)" value=t.translation
            on_set=set(|t, v| t.translation = v) />
        <Vec3Input id=format!("node-{index}-rotation") legend="Rotation (degrees)" value=t.rotation
            on_set=set(|t, v| t.rotation = v) />
        <Vec3Input id=format!("node-{index}-scale") legend="Scale" value=t.scale
            on_set=set(|t, v| t.scale = v) />
    }
}

fn model_fields(
    index: usize,
    m: ModelNode,
    assets: Vec<(i64, String)>,
    edit: impl Fn(Box<dyn Fn(&mut SceneNode)>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let material = m.material.unwrap_or_default();
    let overridden = m.material.is_some();
    let set_material =
        move |f: fn(&mut MaterialOverride, Option<f64>, Vec3), value: Option<f64>, color: Vec3| {
            edit(Box::new(move |n| {
                if let SceneNode::Model(m) = n {
                    let mut o = m.material.unwrap_or_default();
                    f(&mut o, value, color);
                    m.material = Some(o);
                }
            }))
        };
    view! {
        <div>
            <label for=format!("node-{index}-asset") class=LABEL>"3D asset"</label>
            <select id=format!("node-{index}-asset") class=INPUT on:change=move |ev| {
                if let Ok(asset) = event_target_value(&ev).parse::<i64>() {
                    edit(Box::new(move |n| if let SceneNode::Model(m) = n { m.asset_id = asset }))
                }
            }>
                {assets.into_iter().map(|(id, name)| view! {
                    <option value=id.to_string() selected=id == m.asset_id>{format!("{name} (#{id})")}</option>
                }).collect_view()}
            </select>
        </div>
        {transform_fields(index, m.transform, edit)}
        <fieldset>
            <legend class="text-sm font-medium">"Material override"</legend>
            <div class="flex flex-wrap items-end gap-3">
                <div class="flex items-center gap-2">
                    <input id=format!("node-{index}-override") type="checkbox" checked=overridden
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            edit(Box::new(move |n| if let SceneNode::Model(m) = n {
                                m.material = on.then(|| m.material.unwrap_or(MaterialOverride {
                                    base_color: Some([0.8, 0.8, 0.8, 1.0]),
                                    metallic: Some(0.0),
                                    roughness: Some(0.5),
                                }));
                            }))
                        } />
                    <label for=format!("node-{index}-override") class="text-sm">"Override the model's materials"</label>
                </div>
                <ColorInput id=format!("node-{index}-base-color") label="Base colour"
                    value={let c = material.base_color.unwrap_or([0.8, 0.8, 0.8, 1.0]); [c[0], c[1], c[2]]}
                    on_set=Callback::new(move |c: Vec3| set_material(|o, _, c| o.base_color = Some([c[0], c[1], c[2], 1.0]), None, c)) />
                <NumberInput id=format!("node-{index}-roughness") label="Roughness (0–1)" value=material.roughness.unwrap_or(0.5) step=0.05
                    on_set=Callback::new(move |v: f64| set_material(|o, v, _| o.roughness = v, Some(v), [0.0; 3])) />
                <NumberInput id=format!("node-{index}-metallic") label="Metallic (0–1)" value=material.metallic.unwrap_or(0.0) step=0.05
                    on_set=Callback::new(move |v: f64| set_material(|o, v, _| o.metallic = v, Some(v), [0.0; 3])) />
            </div>
        </fieldset>
    }
}

fn aim_fields(
    index: usize,
    position: Vec3,
    target: Vec3,
    edit: impl Fn(Box<dyn Fn(&mut SceneNode)>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let set = move |target_field: bool| {
        Callback::new(move |v: Vec3| {
            edit(Box::new(move |n| match n {
                SceneNode::Light(l) if target_field => l.target = v,
                SceneNode::Light(l) => l.position = v,
                SceneNode::Camera(c) if target_field => c.target = v,
                SceneNode::Camera(c) => c.position = v,
                _ => {}
            }))
        })
    };
    view! {
        <Vec3Input id=format!("node-{index}-position") legend="Position (m)" value=position on_set=set(false) />
        <Vec3Input id=format!("node-{index}-target") legend="Looks at (m)" value=target on_set=set(true) />
    }
}

fn light_fields(
    index: usize,
    l: LightNode,
    edit: impl Fn(Box<dyn Fn(&mut SceneNode)>) + Copy + Send + Sync + 'static,
    reshape: RwSignal<u32>,
) -> impl IntoView {
    let number = move |f: fn(&mut LightNode, f64)| {
        Callback::new(move |v: f64| {
            edit(Box::new(move |n| {
                if let SceneNode::Light(l) = n {
                    f(l, v)
                }
            }))
        })
    };
    let unit = match l.light {
        LightType::Directional => "Strength (W/m², 3–5 is daylight)",
        _ => "Strength (W)",
    };
    view! {
        <div class="grid grid-cols-3 gap-3">
            <div>
                <label for=format!("node-{index}-light") class=LABEL>"Type"</label>
                <select id=format!("node-{index}-light") class=INPUT on:change=move |ev| {
                    let chosen = LightType::ALL.into_iter().find(|t| t.as_str() == event_target_value(&ev));
                    if let Some(t) = chosen {
                        edit(Box::new(move |n| if let SceneNode::Light(l) = n { l.light = t }));
                        reshape.update(|v| *v += 1);
                    }
                }>
                    {LightType::ALL.into_iter().map(|t| view! {
                        <option value=t.as_str() selected=t == l.light>{t.as_str()}</option>
                    }).collect_view()}
                </select>
            </div>
            <ColorInput id=format!("node-{index}-color") label="Colour" value=l.color
                on_set=Callback::new(move |c: Vec3| edit(Box::new(move |n| if let SceneNode::Light(l) = n { l.color = c }))) />
            <NumberInput id=format!("node-{index}-strength") label=unit value=l.strength step=1.0
                on_set=number(|l, v| l.strength = v) />
        </div>
        {aim_fields(index, l.position, l.target, edit)}
        {(l.light == LightType::Spot).then(|| view! {
            <div class="grid grid-cols-2 gap-3">
                <NumberInput id=format!("node-{index}-inner") label="Full light within (degrees)" value=l.inner_cone step=1.0
                    on_set=number(|l, v| l.inner_cone = v) />
                <NumberInput id=format!("node-{index}-outer") label="No light past (degrees)" value=l.outer_cone step=1.0
                    on_set=number(|l, v| l.outer_cone = v) />
            </div>
        })}
    }
}

fn camera_fields(
    index: usize,
    c: CameraNode,
    edit: impl Fn(Box<dyn Fn(&mut SceneNode)>) + Copy + Send + Sync + 'static,
    reshape: RwSignal<u32>,
) -> impl IntoView {
    let (perspective, amount) = match c.projection {
        CameraProjection::Perspective { fov } => (true, fov),
        CameraProjection::Orthographic { height } => (false, height),
    };
    view! {
        <div class="grid grid-cols-2 gap-3">
            <div>
                <label for=format!("node-{index}-projection") class=LABEL>"Projection"</label>
                <select id=format!("node-{index}-projection") class=INPUT on:change=move |ev| {
                    let projection = match event_target_value(&ev).as_str() {
                        "orthographic" => CameraProjection::Orthographic { height: 4.0 },
                        _ => CameraProjection::Perspective { fov: 40.0 },
                    };
                    edit(Box::new(move |n| if let SceneNode::Camera(c) = n { c.projection = projection }));
                    reshape.update(|v| *v += 1);
                }>
                    <option value="perspective" selected=perspective>"perspective"</option>
                    <option value="orthographic" selected=!perspective>"orthographic"</option>
                </select>
            </div>
            <NumberInput id=format!("node-{index}-lens")
                label=if perspective { "Field of view (degrees, vertical)" } else { "Height shown (m)" }
                value=amount step=1.0
                on_set=Callback::new(move |v: f64| edit(Box::new(move |n| if let SceneNode::Camera(c) = n {
                    c.projection = match c.projection {
                        CameraProjection::Perspective { .. } => CameraProjection::Perspective { fov: v },
                        CameraProjection::Orthographic { .. } => CameraProjection::Orthographic { height: v },
                    };
                }))) />
        </div>
        {aim_fields(index, c.position, c.target, edit)}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn colours_go_to_hex_and_back() {
        let c = super::from_hex("#ff8000").unwrap();
        assert_eq!(super::hex(c), "#ff8000");
        assert!((c[0] - 1.0).abs() < 1e-9 && c[2] == 0.0);
        assert_eq!(super::from_hex("ff8000"), None);
    }
}
