//! 3D assets: glTF models uploaded, checked and measured ([`gltf`]), stored once per project as
//! a GLB in the media store, and kept as products of kind `model3d` with their metadata.

pub mod gltf;
pub mod store;
