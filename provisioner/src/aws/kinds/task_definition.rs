//! The gateway's Fargate task definition: one immutable revision per change, the newest active
//! revision of the family standing for the resource.

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, CpuArchitecture, HealthCheck, KeyValuePair,
    LogConfiguration, LogDriver, NetworkMode, OsFamily, PortMapping, RuntimePlatform, Secret,
    TaskDefinition as AwsTaskDefinition, TaskDefinitionField, TaskDefinitionStatus,
    TransportProtocol,
};

use super::tagging;
use super::Driver;
use crate::aws::attrs::{s, strs, Attrs, AttrsExt};
use crate::aws::{api, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct TaskDefinition;

/// Container health check timing: ECS's defaults, with a grace period for the first start.
const HEALTH_INTERVAL: i32 = 30;
const HEALTH_TIMEOUT: i32 = 5;
const HEALTH_RETRIES: i32 = 3;
const HEALTH_START_PERIOD: i32 = 30;
/// Log streams are named `<prefix>/<container>/<task id>`.
const LOG_STREAM_PREFIX: &str = "ecs";

fn model(logical: &str, message: impl std::fmt::Display) -> AwsError {
    AwsError::Model(format!("{logical}: {message}"))
}

/// One container definition from its desired map.
fn container(cx: &Cx, logical: &str, want: &Attrs) -> Result<ContainerDefinition, AwsError> {
    let mut def = ContainerDefinition::builder()
        .name(want.str("name")?)
        .image(want.str("image")?)
        .set_essential(want.opt_bool("essential"));
    for item in list(want, "port_mappings") {
        let Attr::Int(port) = item else {
            return Err(model(logical, "port_mappings holds a non-integer"));
        };
        let port = i32::try_from(*port).map_err(|_| model(logical, "port out of range"))?;
        def = def.port_mappings(
            PortMapping::builder()
                .container_port(port)
                .protocol(TransportProtocol::Tcp)
                .build(),
        );
    }
    for (name, value) in want.map("environment")? {
        let Attr::Str(value) = value else {
            return Err(model(
                logical,
                format!("environment `{name}` is not a string"),
            ));
        };
        def = def.environment(KeyValuePair::builder().name(name).value(value).build());
    }
    for item in list(want, "secrets") {
        let Attr::Map(entry) = item else {
            return Err(model(logical, "secrets holds a non-map"));
        };
        let secret = Secret::builder()
            .name(entry.str("name")?)
            .value_from(entry.str("value_from")?)
            .build()
            .map_err(|e| model(logical, e))?;
        def = def.secrets(secret);
    }
    let check = want.map("health_check")?;
    if !check.is_empty() {
        let health = HealthCheck::builder()
            .set_command(Some(check.strs("command")?))
            .interval(HEALTH_INTERVAL)
            .timeout(HEALTH_TIMEOUT)
            .retries(HEALTH_RETRIES)
            .start_period(HEALTH_START_PERIOD)
            .build()
            .map_err(|e| model(logical, e))?;
        def = def.health_check(health);
    }
    if let Some(group) = want.opt_str("log_group") {
        let logs = LogConfiguration::builder()
            .log_driver(LogDriver::Awslogs)
            .options("awslogs-group", group)
            .options("awslogs-region", &cx.region)
            .options("awslogs-stream-prefix", LOG_STREAM_PREFIX)
            .build()
            .map_err(|e| model(logical, e))?;
        def = def.log_configuration(logs);
    }
    Ok(def.build())
}

fn list<'a>(attrs: &'a Attrs, key: &str) -> &'a [Attr] {
    match attrs.get(key) {
        Some(Attr::List(items)) => items,
        _ => &[],
    }
}

/// A container definition read back into the desired map's shape.
fn container_attrs(def: &ContainerDefinition) -> Attr {
    let mut out = Attrs::new();
    out.insert("name".into(), s(def.name().unwrap_or_default()));
    out.insert("image".into(), s(def.image().unwrap_or_default()));
    if let Some(essential) = def.essential() {
        out.insert("essential".into(), Attr::Bool(essential));
    }
    let ports: Vec<Attr> = def
        .port_mappings()
        .iter()
        .filter_map(|p| p.container_port().map(|n| Attr::Int(n.into())))
        .collect();
    out.insert("port_mappings".into(), Attr::List(ports));
    let environment = def
        .environment()
        .iter()
        .filter_map(|kv| Some((kv.name()?.to_string(), s(kv.value().unwrap_or_default()))))
        .collect();
    out.insert("environment".into(), Attr::Map(environment));
    let secrets = def.secrets().iter().map(|secret| {
        let entry = [("name", secret.name()), ("value_from", secret.value_from())];
        Attr::Map(entry.into_iter().map(|(k, v)| (k.into(), s(v))).collect())
    });
    out.insert("secrets".into(), Attr::List(secrets.collect()));
    if let Some(check) = def.health_check() {
        let command = ("command".to_string(), strs(check.command().iter().cloned()));
        out.insert("health_check".into(), Attr::Map([command].into()));
    }
    let logs = def.log_configuration();
    if let Some(group) = logs
        .filter(|l| *l.log_driver() == LogDriver::Awslogs)
        .and_then(|l| l.options()?.get("awslogs-group"))
    {
        out.insert("log_group".into(), s(group));
    }
    Attr::Map(out)
}

/// A described revision in the desired shape, plus `arn` and `revision`.
fn attrs_of(def: &AwsTaskDefinition, tags: Attr) -> Attrs {
    let mut attrs = Attrs::new();
    let number = |text: Option<&str>| text.and_then(|t| t.parse::<i64>().ok()).map(Attr::Int);
    attrs.insert("family".into(), s(def.family().unwrap_or_default()));
    attrs.insert(
        "arn".into(),
        s(def.task_definition_arn().unwrap_or_default()),
    );
    attrs.insert("revision".into(), Attr::Int(def.revision().into()));
    for (key, value) in [("cpu", number(def.cpu())), ("memory", number(def.memory()))] {
        if let Some(value) = value {
            attrs.insert(key.into(), value);
        }
    }
    if let Some(mode) = def.network_mode() {
        attrs.insert("network_mode".into(), s(mode.as_str()));
    }
    let compat = def.requires_compatibilities().iter().map(|c| c.as_str());
    attrs.insert("requires_compatibilities".into(), strs(compat));
    if let Some(platform) = def.runtime_platform() {
        let mut map = Attrs::new();
        if let Some(arch) = platform.cpu_architecture() {
            map.insert("cpu_architecture".into(), s(arch.as_str()));
        }
        if let Some(os) = platform.operating_system_family() {
            map.insert("operating_system_family".into(), s(os.as_str()));
        }
        attrs.insert("runtime_platform".into(), Attr::Map(map));
    }
    for (key, value) in [
        ("execution_role_arn", def.execution_role_arn()),
        ("task_role_arn", def.task_role_arn()),
    ] {
        if let Some(value) = value {
            attrs.insert(key.into(), s(value));
        }
    }
    let containers = def.container_definitions().iter().map(container_attrs);
    attrs.insert("containers".into(), Attr::List(containers.collect()));
    attrs.insert("tags".into(), tags);
    attrs
}

/// The revision `arn_or_family` names (a family means its newest active revision), with tags.
async fn describe(
    cx: &Cx,
    arn_or_family: &str,
) -> Result<Option<(AwsTaskDefinition, Vec<aws_sdk_ecs::types::Tag>)>, AwsError> {
    let found = cx
        .aws
        .ecs
        .describe_task_definition()
        .task_definition(arn_or_family)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .map_err(api("ecs:DescribeTaskDefinition"));
    let found = match found {
        // ECS answers ClientException for an unknown family or revision.
        Err(error) if error.is_not_found() || error.code() == Some("ClientException") => {
            return Ok(None)
        }
        other => other?,
    };
    Ok(found
        .task_definition()
        .cloned()
        .map(|def| (def, found.tags().to_vec())))
}

/// (revision, ARN) of every active revision of exactly `family` (the listing matches by prefix,
/// so `app-gateway-2` is not taken for `app-gateway`).
pub async fn active_revisions(cx: &Cx, family: &str) -> Result<Vec<(i64, String)>, AwsError> {
    let arns: Vec<String> = cx
        .aws
        .ecs
        .list_task_definitions()
        .family_prefix(family)
        .status(TaskDefinitionStatus::Active)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(api("ecs:ListTaskDefinitions"))?;
    Ok(arns
        .into_iter()
        .filter_map(|arn| revision_of(&arn, family).map(|n| (n, arn)))
        .collect())
}

/// The revision number of `arn` when it belongs to exactly `family`.
fn revision_of(arn: &str, family: &str) -> Option<i64> {
    let tail = arn.rsplit('/').next()?;
    let (name, revision) = tail.rsplit_once(':')?;
    (name == family).then(|| revision.parse().ok())?
}

/// Families that may be ours: those starting with the stack's name, and the desired ones.
async fn families(cx: &Cx, desired: &[&Resource]) -> Result<Vec<String>, AwsError> {
    let mut names: Vec<String> = cx
        .aws
        .ecs
        .list_task_definition_families()
        .family_prefix(&cx.stack)
        .status(aws_sdk_ecs::types::TaskDefinitionFamilyStatus::Active)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(api("ecs:ListTaskDefinitionFamilies"))?;
    names.extend(
        desired
            .iter()
            .filter_map(|r| r.attrs.opt_str("family").map(str::to_string)),
    );
    names.sort();
    names.dedup();
    Ok(names)
}

#[async_trait]
impl Driver for TaskDefinition {
    async fn observe(
        &self,
        cx: &Cx,
        desired: &[&Resource],
    ) -> Result<Vec<(String, Observed)>, AwsError> {
        let mut out = Vec::new();
        for family in families(cx, desired).await? {
            let newest = active_revisions(cx, &family).await?.into_iter().max();
            let Some((_, arn)) = newest else {
                continue;
            };
            let Some((def, tags)) = describe(cx, &arn).await? else {
                continue;
            };
            let Some((logical, tags)) = tagging::owned(&cx.stack, &tagging::pairs(&tags)) else {
                continue;
            };
            let attrs = attrs_of(&def, tags);
            let kind = ResourceKind::TaskDefinition;
            out.push((logical, Observed { kind, attrs }));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let mut containers = Vec::new();
        for item in list(want, "containers") {
            let Attr::Map(map) = item else {
                return Err(model(logical, "containers holds a non-map"));
            };
            containers.push(container(cx, logical, map)?);
        }
        let platform = want.map("runtime_platform")?;
        let registered = cx
            .aws
            .ecs
            .register_task_definition()
            .family(want.str("family")?)
            .cpu(want.int("cpu")?.to_string())
            .memory(want.int("memory")?.to_string())
            .network_mode(NetworkMode::from(want.str("network_mode")?))
            .set_requires_compatibilities(Some(
                want.strs("requires_compatibilities")?
                    .iter()
                    .map(|c| Compatibility::from(c.as_str()))
                    .collect(),
            ))
            .runtime_platform(
                RuntimePlatform::builder()
                    .set_cpu_architecture(
                        platform
                            .opt_str("cpu_architecture")
                            .map(CpuArchitecture::from),
                    )
                    .set_operating_system_family(
                        platform
                            .opt_str("operating_system_family")
                            .map(OsFamily::from),
                    )
                    .build(),
            )
            .set_execution_role_arn(want.opt_str("execution_role_arn").map(str::to_string))
            .set_task_role_arn(want.opt_str("task_role_arn").map(str::to_string))
            .set_container_definitions(Some(containers))
            .set_tags(Some(tagging::tags_of(want)))
            .send()
            .await
            .map_err(api("ecs:RegisterTaskDefinition"))?;
        let def = registered
            .task_definition()
            .ok_or_else(|| AwsError::Unexpected {
                operation: "ecs:RegisterTaskDefinition",
                message: format!("{logical}: no task definition in the answer"),
            })?;
        let mut have = want.clone();
        have.insert(
            "arn".into(),
            s(def.task_definition_arn().unwrap_or_default()),
        );
        have.insert("revision".into(), Attr::Int(def.revision().into()));
        Ok(have)
    }

    async fn update(
        &self,
        cx: &Cx,
        logical: &str,
        have: &Attrs,
        want: &Attrs,
        changed: &[String],
    ) -> Result<Attrs, AwsError> {
        let arn = have.str("arn")?;
        for key in changed {
            match key.as_str() {
                "tags" => tagging::retag(&tagging::Ecs, cx, arn, have, want).await?,
                other => {
                    return Err(model(
                        logical,
                        format!("task definition `{other}` needs a new revision"),
                    ))
                }
            }
        }
        let mut out = want.clone();
        for key in ["arn", "revision"] {
            if let Some(value) = have.get(key) {
                out.insert(key.into(), value.clone());
            }
        }
        Ok(out)
    }

    /// Deregisters the revision in `have.arn` (only that one; older revisions stay as AWS keeps
    /// them, inactive revisions cannot start new tasks).
    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let arn = have.str("arn")?;
        let active = describe(cx, arn)
            .await?
            .is_some_and(|(def, _)| def.status() == Some(&TaskDefinitionStatus::Active));
        if !active {
            return Ok(());
        }
        cx.aws
            .ecs
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(api("ecs:DeregisterTaskDefinition"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_of_exactly_the_family() {
        let arn = "arn:aws:ecs:us-east-1:1:task-definition/app-gateway:7";
        assert_eq!(revision_of(arn, "app-gateway"), Some(7));
        assert_eq!(revision_of(arn, "app"), None);
        let longer = "arn:aws:ecs:us-east-1:1:task-definition/app-gateway-2:3";
        assert_eq!(revision_of(longer, "app-gateway"), None);
    }

    #[test]
    fn container_read_back_in_the_desired_shape() {
        let def = ContainerDefinition::builder()
            .name("gateway")
            .image("gateway:1")
            .essential(true)
            .port_mappings(
                aws_sdk_ecs::types::PortMapping::builder()
                    .container_port(8000)
                    .build(),
            )
            .environment(
                aws_sdk_ecs::types::KeyValuePair::builder()
                    .name("A")
                    .value("1")
                    .build(),
            )
            .build();
        let Attr::Map(attrs) = container_attrs(&def) else {
            panic!("a container reads back as a map");
        };
        assert_eq!(attrs["port_mappings"], Attr::List(vec![Attr::Int(8000)]));
        assert_eq!(attrs["essential"], Attr::Bool(true));
        let env = Attr::Map([("A".to_string(), s("1"))].into());
        assert_eq!(attrs["environment"], env);
    }
}
