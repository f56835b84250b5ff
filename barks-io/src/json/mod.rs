//! JSON lines files: typed rows in ([`json_file`], [`json_file_permissive`])
//! and out ([`SaveAsJson::save_as_json`]), through serde_json.

mod options;
mod sink;
mod source;

pub use options::{JsonOptions, JsonWriteOptions};
pub use sink::SaveAsJson;
pub use source::{json_file, json_file_permissive};
