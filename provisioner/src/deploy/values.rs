//! The gateway's configuration template filled with the stack's values: the stack's
//! `[gateway.config.values]`, the built-ins every template may use, and the ones the data plane
//! knows (where Redis and the Admin API listen).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::plane::DataPlane;
use super::template::{self, Rendered, Value};
use super::{DeployContext, DeployError};
use crate::core::Observed;

/// Where the template named by the stack file is, relative to the stack file's directory.
pub fn template_path(dc: &DeployContext<'_>, template: &str) -> PathBuf {
    let dir = dc.stack.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let path = dir.join(template);
    path.canonicalize().unwrap_or(path)
}

/// The template filled with the stack's values; problems are `file:line:col: message` lines.
pub fn render(
    dc: &DeployContext<'_>,
    plane: &dyn DataPlane,
    observed: &BTreeMap<String, Observed>,
    path: &Path,
) -> Result<Rendered, DeployError> {
    let text = std::fs::read_to_string(path).map_err(|source| DeployError::TemplateUnreadable {
        path: path.to_path_buf(),
        source,
    })?;
    template::render(&text, &values(dc, plane, observed)).map_err(|problems| {
        DeployError::Template {
            path: path.to_path_buf(),
            problems,
        }
    })
}

/// Every placeholder a template may use: the stack's `[gateway.config.values]` and the built-ins.
fn values(
    dc: &DeployContext<'_>,
    plane: &dyn DataPlane,
    observed: &BTreeMap<String, Observed>,
) -> BTreeMap<String, Value> {
    let stack = dc.stack;
    let known = |v: String| Value::Known(v);
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    values.insert("name_prefix".into(), known(stack.name_prefix.clone()));
    values.insert("region".into(), known(stack.region.clone()));
    let health = stack
        .dns
        .as_ref()
        .map_or("/status", |d| d.health_check_path.as_str());
    values.insert("health_check_path".into(), known(health.to_string()));
    for (key, value) in plane.endpoint_values(observed) {
        values.insert(key.to_string(), value);
    }
    for (key, value) in stack.gateway.config.iter().flat_map(|c| &c.values) {
        values.insert(key.clone(), known(value.clone()));
    }
    values
}
