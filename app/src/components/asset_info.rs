//! What was measured in a model, as tables: its weight (vertices, triangles, draw calls, per
//! mesh and for the scene as drawn), its size (the bounding box), its materials and textures
//! (with GPU memory), animations and skins; and the problems the checks found.

use leptos::prelude::*;

use crate::dto::assets::human_bytes;
use crate::dto::{AssetInfo, AssetIssue, IssueSeverity};

const TH: &str = "py-1 pr-4 text-left font-medium text-stone-600 dark:text-stone-400";
const TD: &str = "py-1 pr-4 tabular-nums";

fn metres(v: f64) -> String {
    format!("{v:.3} m")
}

fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[component]
pub fn AssetFacts(info: AssetInfo, bytes: i64) -> impl IntoView {
    let scene = info.scene.clone();
    let rows: Vec<(&'static str, String)> = {
        let mut rows = vec![
            ("Stored GLB", human_bytes(bytes as u64)),
            (
                "Uploaded",
                format!(
                    "{} ({})",
                    human_bytes(info.file_bytes),
                    info.container.to_uppercase()
                ),
            ),
            ("Vertices (each mesh once)", count(info.totals.vertices)),
            ("Triangles (each mesh once)", count(info.totals.triangles)),
            ("Draw calls (each mesh once)", count(info.totals.draw_calls)),
        ];
        if let Some(s) = &scene {
            rows.push(("Mesh instances in the scene", count(s.instances)));
            rows.push(("Vertices drawn", count(s.counts.vertices)));
            rows.push(("Triangles drawn", count(s.counts.triangles)));
            rows.push(("Draw calls", count(s.counts.draw_calls)));
            if let Some(b) = &s.bounds {
                let [x, y, z] = b.size();
                rows.push((
                    "Size (x × y × z)",
                    format!("{} × {} × {}", metres(x), metres(y), metres(z)),
                ));
                rows.push(("Bounds min", b.min.map(metres).join(", ")));
                rows.push(("Bounds max", b.max.map(metres).join(", ")));
            }
        }
        rows.push((
            "GPU memory (estimate)",
            format!(
                "{} ({} textures, {} geometry)",
                human_bytes(info.gpu.total),
                human_bytes(info.gpu.textures),
                human_bytes(info.gpu.geometry)
            ),
        ));
        rows.push(("Animations", info.animations.len().to_string()));
        rows.push(("Skins", info.skins.len().to_string()));
        rows.push(("Cameras", info.cameras.to_string()));
        if let Some(g) = &info.generator {
            rows.push(("Made with", g.clone()));
        }
        if !info.extensions_used.is_empty() {
            rows.push(("Extensions", info.extensions_used.join(", ")));
        }
        rows
    };
    view! {
        <table class="text-sm" aria-label="Model facts">
            <tbody>
                {rows.into_iter().map(|(k, v)| view! { <tr><th scope="row" class=TH>{k}</th><td class=TD>{v}</td></tr> }).collect_view()}
            </tbody>
        </table>
        <h3 class="mt-4 font-semibold">"Meshes"</h3>
        <table class="text-sm">
            <thead><tr><th scope="col" class=TH>"Mesh"</th><th scope="col" class=TH>"Primitives"</th><th scope="col" class=TH>"Vertices"</th><th scope="col" class=TH>"Triangles"</th></tr></thead>
            <tbody>
                {info.meshes.iter().enumerate().map(|(i, m)| view! {
                    <tr>
                        <td class=TD>{m.name.clone().unwrap_or_else(|| format!("Mesh {i}"))}</td>
                        <td class=TD>{count(m.primitives)}</td>
                        <td class=TD>{count(m.vertices)}</td>
                        <td class=TD>{count(m.triangles)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <h3 class="mt-4 font-semibold">"Materials"</h3>
        {if info.materials.is_empty() {
            view! { <p class="text-sm">"None (drawn in a default grey)."</p> }.into_any()
        } else {
            view! {
                <ul class="text-sm">
                    {info.materials.iter().enumerate().map(|(i, m)| {
                        let [r, g, b, a] = m.base_color;
                        let swatch = format!("background-color: rgb({:.0} {:.0} {:.0})", r.powf(1.0 / 2.2) * 255.0, g.powf(1.0 / 2.2) * 255.0, b.powf(1.0 / 2.2) * 255.0);
                        view! {
                            <li class="flex items-center gap-2">
                                <span class="inline-block h-3 w-3 rounded-sm border border-stone-400" style=swatch aria-hidden="true"></span>
                                {format!(
                                    "{}: base colour {r:.2} {g:.2} {b:.2} (alpha {a:.2}){}, metallic {:.2}, roughness {:.2}{}",
                                    m.name.clone().unwrap_or_else(|| format!("Material {i}")),
                                    if m.base_color_texture.is_some() { " × texture" } else { "" },
                                    m.metallic, m.roughness,
                                    if m.double_sided { ", double-sided" } else { "" }
                                )}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        <h3 class="mt-4 font-semibold">"Textures"</h3>
        {if info.textures.is_empty() {
            view! { <p class="text-sm">"None."</p> }.into_any()
        } else {
            view! {
                <table class="text-sm">
                    <thead><tr><th scope="col" class=TH>"Image"</th><th scope="col" class=TH>"Type"</th><th scope="col" class=TH>"Pixels"</th><th scope="col" class=TH>"File"</th><th scope="col" class=TH>"GPU"</th></tr></thead>
                    <tbody>
                        {info.textures.iter().map(|t| view! {
                            <tr>
                                <td class=TD>{t.name.clone().unwrap_or_else(|| format!("Image {}", t.image))}</td>
                                <td class=TD>{t.mime.clone()}</td>
                                <td class=TD>{format!("{} × {}", t.width, t.height)}</td>
                                <td class=TD>{human_bytes(t.bytes)}</td>
                                <td class=TD>{human_bytes(t.gpu_bytes)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        {(!info.animations.is_empty()).then(|| view! {
            <h3 class="mt-4 font-semibold">"Animations"</h3>
            <ul class="text-sm">
                {info.animations.iter().enumerate().map(|(i, a)| view! {
                    <li>{format!("{}: {} channels, {:.2} s", a.name.clone().unwrap_or_else(|| format!("Animation {i}")), a.channels, a.seconds)}</li>
                }).collect_view()}
            </ul>
        })}
        {(!info.skins.is_empty()).then(|| view! {
            <h3 class="mt-4 font-semibold">"Skins"</h3>
            <ul class="text-sm">
                {info.skins.iter().enumerate().map(|(i, s)| view! {
                    <li>{format!("{}: {} joints", s.name.clone().unwrap_or_else(|| format!("Skin {i}")), s.joints)}</li>
                }).collect_view()}
            </ul>
        })}
    }
}

/// The checks' findings: what is wrong, where in the file.
#[component]
pub fn ValidationReport(issues: Vec<AssetIssue>) -> impl IntoView {
    if issues.is_empty() {
        return view! { <p class="text-sm text-emerald-800 dark:text-emerald-300">"No problems found."</p> }.into_any();
    }
    view! {
        <ul class="text-sm" aria-label="Problems found">
            {issues.into_iter().map(|i| view! {
                <li class="py-1">
                    <span class="font-medium">{match i.severity { IssueSeverity::Error => "Error", IssueSeverity::Warning => "Warning" }}</span>
                    " "<code class="font-mono">{i.code}</code>" at "<code class="font-mono">{i.pointer}</code>": "{i.message}
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}
