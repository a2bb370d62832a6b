//! Wire types: what the server sends the browser. Plain data, wasm-safe, no database types; one
//! module per noun, all re-exported here.

pub mod assets;
mod backups;
mod catalog;
pub mod characters;
mod costs;
mod gallery;
mod generate;
mod imports;
mod jobs;
mod library;
mod pipelines;
mod plugins;
pub mod portraits;
mod products;
mod projects;
mod queue;
pub mod scenes;
mod settings;
mod storage;
mod tokens;

pub use assets::{AssetDto, AssetInfo, AssetIssue, AssetLinkDto, IssueSeverity};
pub use backups::*;
pub use catalog::*;
pub use characters::{CharacterDto, CharacterLocks, CharacterSheet, CharacterSummaryDto};
pub use costs::*;
pub use gallery::*;
pub use generate::*;
pub use imports::*;
pub use jobs::*;
pub use library::*;
pub use pipelines::*;
pub use plugins::*;
pub use portraits::{
    CharacterLinkDto, PortraitDto, PortraitOrderDto, PortraitStyleDto, PortraitVariation,
    PortraitsDto, QueuedPortraitDto,
};
pub use products::*;
pub use projects::*;
pub use queue::*;
pub use scenes::{
    RenderEngine, RenderEngineDto, RenderFormat, RenderJobDto, RenderOrderDto, RenderOutputDto,
    SceneDto, SceneGraph, SceneLinkDto, SceneNode, SceneSummaryDto,
};
pub use settings::*;
pub use storage::*;
pub use tokens::*;
