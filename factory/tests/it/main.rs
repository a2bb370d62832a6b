//! Integration tests of the engine against a real PostgreSQL (one binary for the crate).

mod a1111;
mod assets;
mod auth;
mod backup;
mod character_sheets;
mod characters;
mod civitai;
mod cluster;
mod comfyui;
mod credentials;
mod declared;
mod export;
mod fal;
mod gallery;
mod gltf;
mod import;
mod library;
mod lineage;
mod media;
mod pipelines;
mod projects;
mod queue;
mod relay;
mod replicate;
mod scripted;
mod storage;
