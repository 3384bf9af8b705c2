//! A VPC security group. Its rules are separate resources (`SecurityGroupRule`); the egress-all
//! rule AWS adds to every new group is left as AWS made it.

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, ResourceType};

use super::ec2_common::{
    created_id, describe_owned, entry, owned_items, seen, update_tags_only, with_id,
};
use super::tagging;
use super::{ec2_tags, Driver, Goal, Progress};
use crate::aws::attrs::{s, Attrs, AttrsExt};
use crate::aws::{api, found, gone_ok, AwsError, Cx};
use crate::core::{Observed, Resource, ResourceKind};

pub struct SecurityGroup;

#[async_trait]
impl Driver for SecurityGroup {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let groups = owned_groups(cx).await?;
        let mut out = Vec::new();
        for (logical, _, mut attrs, group) in owned_items(&cx.stack, &groups) {
            attrs.insert("name".into(), s(group.group_name().unwrap_or_default()));
            attrs.insert(
                "description".into(),
                s(group.description().unwrap_or_default()),
            );
            attrs.insert("vpc_id".into(), s(group.vpc_id().unwrap_or_default()));
            out.push(entry(ResourceKind::SecurityGroup, logical, attrs));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let name = want.str("name")?;
        let vpc = want.str("vpc_id")?;
        let created = cx
            .aws
            .ec2
            .create_security_group()
            .group_name(name)
            .description(want.str("description")?)
            .vpc_id(vpc)
            .tag_specifications(ec2_tags::spec(ResourceType::SecurityGroup, want))
            .send()
            .await
            .map_err(api("ec2:CreateSecurityGroup"));
        let id = match created {
            Ok(created) => created_id(
                cx,
                ResourceKind::SecurityGroup,
                created.group_id(),
                "ec2:CreateSecurityGroup",
                logical,
            )?,
            Err(error) if error.code() == Some("InvalidGroup.Duplicate") => {
                adopt(cx, logical, name, vpc).await?
            }
            Err(error) => return Err(error),
        };
        Ok(with_id(want, &id))
    }

    async fn update(
        &self,
        cx: &Cx,
        logical: &str,
        have: &Attrs,
        want: &Attrs,
        changed: &[String],
    ) -> Result<Attrs, AwsError> {
        update_tags_only(cx, logical, have, want, changed).await
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        // DependencyViolation while interfaces using the group go away is retried by the engine.
        let result = cx
            .aws
            .ec2
            .delete_security_group()
            .group_id(have.str("id")?)
            .send()
            .await
            .map_err(api("ec2:DeleteSecurityGroup"));
        gone_ok(result)
    }

    async fn poll(&self, cx: &Cx, have: &Attrs, goal: Goal) -> Result<Progress, AwsError> {
        let call = cx
            .aws
            .ec2
            .describe_security_groups()
            .group_ids(have.str("id")?);
        let answer = found(call.send().await.map_err(api("ec2:DescribeSecurityGroups")))?;
        Ok(seen(
            goal,
            answer.is_some_and(|a| !a.security_groups().is_empty()),
        ))
    }
}

/// Every security group tagged as owned by the stack (the rule driver finds rules through them).
pub async fn owned_groups(cx: &Cx) -> Result<Vec<aws_sdk_ec2::types::SecurityGroup>, AwsError> {
    describe_owned!(
        cx,
        describe_security_groups,
        filters,
        "ec2:DescribeSecurityGroups"
    )
}

/// The id of the group named `name` in `vpc` when it is this resource (a run that died after
/// creating it); a group of that name that is not ours is an error.
async fn adopt(cx: &Cx, logical: &str, name: &str, vpc: &str) -> Result<String, AwsError> {
    let filter = |key: &str, value: &str| Filter::builder().name(key).values(value).build();
    let found = cx
        .aws
        .ec2
        .describe_security_groups()
        .filters(filter("group-name", name))
        .filters(filter("vpc-id", vpc))
        .send()
        .await
        .map_err(api("ec2:DescribeSecurityGroups"))?;
    let group = found.security_groups().first();
    let ours = group
        .and_then(|g| tagging::owned(&cx.stack, &tagging::pairs(g.tags())))
        .is_some_and(|(owner_logical, _)| owner_logical == logical);
    match (ours, group.and_then(|g| g.group_id())) {
        (true, Some(id)) => Ok(id.to_string()),
        _ => Err(tagging::not_ours(cx, "security group", name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_found_by_owner_tag() {
        let owner = ec2_tags::owner_filter("demo");
        assert_eq!(owner.name(), Some("tag:provisioner:stack"));
        assert_eq!(owner.values(), ["demo"]);
    }
}
