//! The CloudWatch Logs group the gateway's containers write to (awslogs driver), with retention.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::LogGroup as AwsLogGroup;

use super::tagging::{claim, owned, retag, Logs, TagApi};
use super::Driver;
use crate::aws::attrs::{s, Attrs, AttrsExt};
use crate::aws::{api, gone_ok, not_in_place, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct LogGroup;

/// The group's ARN without the `:*` suffix `arn` carries (the form tag calls take).
fn arn_of(group: &AwsLogGroup) -> String {
    group
        .log_group_arn()
        .map(str::to_string)
        .or_else(|| group.arn().map(|a| a.trim_end_matches(":*").to_string()))
        .unwrap_or_default()
}

/// Log groups whose name contains the stack's name, plus the desired names (in case one does not).
async fn candidates(cx: &Cx, desired: &[&Resource]) -> Result<Vec<AwsLogGroup>, AwsError> {
    let logs = &cx.aws.logs;
    let mut found: BTreeMap<String, AwsLogGroup> = BTreeMap::new();
    let mut searches = vec![logs.describe_log_groups().log_group_name_pattern(&cx.stack)];
    for name in desired.iter().filter_map(|r| r.attrs.opt_str("name")) {
        searches.push(logs.describe_log_groups().log_group_name_prefix(name));
    }
    for search in searches {
        let groups: Vec<AwsLogGroup> = search
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(api("logs:DescribeLogGroups"))?;
        for group in groups {
            if let Some(name) = group.log_group_name() {
                found.insert(name.to_string(), group);
            }
        }
    }
    Ok(found.into_values().collect())
}

#[async_trait]
impl Driver for LogGroup {
    async fn observe(
        &self,
        cx: &Cx,
        desired: &[&Resource],
    ) -> Result<Vec<(String, Observed)>, AwsError> {
        let mut out = Vec::new();
        for group in candidates(cx, desired).await? {
            let arn = arn_of(&group);
            let pairs = match Logs.list(cx, &arn).await {
                // Deleted between the listing and now: not ours to report.
                Err(error) if error.is_not_found() => continue,
                other => other?,
            };
            let Some((logical, tags)) = owned(&cx.stack, &pairs) else {
                continue;
            };
            let mut attrs = Attrs::new();
            attrs.insert("name".into(), s(group.log_group_name().unwrap_or_default()));
            attrs.insert("arn".into(), s(arn.clone()));
            if let Some(days) = group.retention_in_days() {
                attrs.insert("retention_days".into(), Attr::Int(days.into()));
            }
            attrs.insert("tags".into(), tags);
            let kind = ResourceKind::LogGroup;
            out.push((logical, Observed { kind, attrs }));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let name = want.str("name")?;
        let created = cx
            .aws
            .logs
            .create_log_group()
            .log_group_name(name)
            .set_tags(Some(want.tag_pairs().into_iter().collect()))
            .send()
            .await
            .map_err(api("logs:CreateLogGroup"));
        let existed = match created {
            Err(error) if error.is_already_exists() => true,
            other => other.map(|_| false)?,
        };
        let arn = find_arn(cx, name)
            .await?
            .ok_or_else(|| AwsError::Unexpected {
                operation: "logs:DescribeLogGroups",
                message: format!("{logical}: `{name}` not found right after its creation"),
            })?;
        // A run that died after creating it: adopt the group only when it is ours.
        if existed {
            claim(cx, "log group", name, logical, &Logs.list(cx, &arn).await?)?;
        }
        let mut have = want.clone();
        have.insert("arn".into(), s(&arn));
        self.update(cx, logical, &have, want, &["retention_days".into()])
            .await
    }

    async fn update(
        &self,
        cx: &Cx,
        logical: &str,
        have: &Attrs,
        want: &Attrs,
        changed: &[String],
    ) -> Result<Attrs, AwsError> {
        let name = want.str("name")?;
        let arn = have.str("arn")?;
        for key in changed {
            match key.as_str() {
                "retention_days" => set_retention(cx, name, want.opt_int("retention_days")).await?,
                "tags" => retag(&Logs, cx, arn, have, want).await?,
                other => return Err(not_in_place(logical, "log group", other)),
            }
        }
        let mut out = want.clone();
        out.insert("arn".into(), s(arn));
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let result = cx
            .aws
            .logs
            .delete_log_group()
            .log_group_name(have.str("name")?)
            .send()
            .await
            .map_err(api("logs:DeleteLogGroup"));
        gone_ok(result)
    }
}

/// The ARN of the group named exactly `name`, if it exists.
async fn find_arn(cx: &Cx, name: &str) -> Result<Option<String>, AwsError> {
    let found = cx
        .aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(api("logs:DescribeLogGroups"))?;
    Ok(found
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .map(arn_of))
}

async fn set_retention(cx: &Cx, name: &str, days: Option<i64>) -> Result<(), AwsError> {
    let logs = &cx.aws.logs;
    match days {
        Some(days) => {
            let days = i32::try_from(days).map_err(|_| {
                AwsError::Model(format!("{name}: retention {days} is out of range"))
            })?;
            logs.put_retention_policy()
                .log_group_name(name)
                .retention_in_days(days)
                .send()
                .await
                .map_err(api("logs:PutRetentionPolicy"))?;
        }
        None => {
            logs.delete_retention_policy()
                .log_group_name(name)
                .send()
                .await
                .map_err(api("logs:DeleteRetentionPolicy"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_without_the_stream_wildcard() {
        let old = AwsLogGroup::builder()
            .arn("arn:aws:logs:eu-west-1:1:log-group:g:*")
            .build();
        assert_eq!(arn_of(&old), "arn:aws:logs:eu-west-1:1:log-group:g");
        let new = AwsLogGroup::builder()
            .log_group_arn("arn:aws:logs:x:1:log-group:h")
            .build();
        assert_eq!(arn_of(&new), "arn:aws:logs:x:1:log-group:h");
    }
}
