//! Each service's tag calls behind [`TagApi`]: EC2, ECS, ELBv2, RDS, ElastiCache, Secrets
//! Manager, CloudWatch Logs, Application Auto Scaling, API Gateway, IAM roles, Route53 health
//! checks.

use async_trait::async_trait;

use super::tagging::{map_pairs, pairs, sdk_tags, Pairs, SdkTag, TagApi};
use crate::aws::{api, AwsError, Cx};

/// EC2 (VPCs, subnets, gateways, addresses, route tables, security groups).
pub struct Ec2;
/// ECS clusters, services and task definitions.
pub struct Ecs;
/// ELBv2 load balancers, target groups and listeners.
pub struct Elb;
/// RDS clusters, instances and subnet groups.
pub struct Rds;
/// ElastiCache replication groups and subnet groups.
pub struct ElastiCache;
/// Secrets Manager secrets.
pub struct Secrets;
/// CloudWatch Logs groups.
pub struct Logs;
/// Application Auto Scaling targets.
pub struct AutoScaling;
/// API Gateway APIs and domain names (by ARN).
pub struct ApiGateway;
/// IAM roles (by name).
pub struct IamRoles;
/// Route53 health checks (by id).
pub struct HealthChecks;

#[async_trait]
impl TagApi for Ec2 {
    async fn list(&self, cx: &Cx, id: &str) -> Result<Pairs, AwsError> {
        let filter = aws_sdk_ec2::types::Filter::builder()
            .name("resource-id")
            .values(id);
        let call = cx.aws.ec2.describe_tags().filters(filter.build());
        let found = call.send().await.map_err(api("ec2:DescribeTags"))?;
        let pair = |t: &aws_sdk_ec2::types::TagDescription| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        };
        Ok(found.tags().iter().filter_map(pair).collect())
    }
    async fn tag(&self, cx: &Cx, id: &str, fresh: Pairs) -> Result<(), AwsError> {
        let call = cx
            .aws
            .ec2
            .create_tags()
            .resources(id)
            .set_tags(Some(sdk_tags(fresh)));
        call.send().await.map(drop).map_err(api("ec2:CreateTags"))
    }
    async fn untag(&self, cx: &Cx, id: &str, stale: Vec<String>) -> Result<(), AwsError> {
        let keys = stale
            .into_iter()
            .map(|k| aws_sdk_ec2::types::Tag::builder().key(k).build());
        let call = cx
            .aws
            .ec2
            .delete_tags()
            .resources(id)
            .set_tags(Some(keys.collect()));
        call.send().await.map(drop).map_err(api("ec2:DeleteTags"))
    }
}

#[async_trait]
impl TagApi for Ecs {
    async fn list(&self, cx: &Cx, arn: &str) -> Result<Pairs, AwsError> {
        let call = cx.aws.ecs.list_tags_for_resource().resource_arn(arn);
        let found = call.send().await.map_err(api("ecs:ListTagsForResource"))?;
        Ok(pairs(found.tags()))
    }
    async fn tag(&self, cx: &Cx, arn: &str, fresh: Pairs) -> Result<(), AwsError> {
        let call = cx.aws.ecs.tag_resource().resource_arn(arn);
        call.set_tags(Some(sdk_tags(fresh)))
            .send()
            .await
            .map(drop)
            .map_err(api("ecs:TagResource"))
    }
    async fn untag(&self, cx: &Cx, arn: &str, stale: Vec<String>) -> Result<(), AwsError> {
        let call = cx.aws.ecs.untag_resource().resource_arn(arn);
        call.set_tag_keys(Some(stale))
            .send()
            .await
            .map(drop)
            .map_err(api("ecs:UntagResource"))
    }
}

#[async_trait]
impl TagApi for Elb {
    async fn list(&self, cx: &Cx, arn: &str) -> Result<Pairs, AwsError> {
        let call = cx.aws.elbv2.describe_tags().resource_arns(arn);
        let found = call.send().await.map_err(api("elbv2:DescribeTags"))?;
        let tags = found.tag_descriptions().iter().flat_map(|d| d.tags());
        Ok(tags.filter_map(SdkTag::pair).collect())
    }
    async fn tag(&self, cx: &Cx, arn: &str, fresh: Pairs) -> Result<(), AwsError> {
        let call = cx.aws.elbv2.add_tags().resource_arns(arn);
        call.set_tags(Some(sdk_tags(fresh)))
            .send()
            .await
            .map(drop)
            .map_err(api("elbv2:AddTags"))
    }
    async fn untag(&self, cx: &Cx, arn: &str, stale: Vec<String>) -> Result<(), AwsError> {
        let call = cx.aws.elbv2.remove_tags().resource_arns(arn);
        call.set_tag_keys(Some(stale))
            .send()
            .await
            .map(drop)
            .map_err(api("elbv2:RemoveTags"))
    }
}

#[async_trait]
impl TagApi for Rds {
    async fn list(&self, cx: &Cx, arn: &str) -> Result<Pairs, AwsError> {
        let call = cx.aws.rds.list_tags_for_resource().resource_name(arn);
        let found = call.send().await.map_err(api("rds:ListTagsForResource"))?;
        Ok(pairs(found.tag_list()))
    }
    async fn tag(&self, cx: &Cx, arn: &str, fresh: Pairs) -> Result<(), AwsError> {
        let call = cx.aws.rds.add_tags_to_resource().resource_name(arn);
        call.set_tags(Some(sdk_tags(fresh)))
            .send()
            .await
            .map(drop)
            .map_err(api("rds:AddTagsToResource"))
    }
    async fn untag(&self, cx: &Cx, arn: &str, stale: Vec<String>) -> Result<(), AwsError> {
        let call = cx.aws.rds.remove_tags_from_resource().resource_name(arn);
        let result = call.set_tag_keys(Some(stale)).send().await;
        result.map(drop).map_err(api("rds:RemoveTagsFromResource"))
    }
}

#[async_trait]
impl TagApi for ElastiCache {
    async fn list(&self, cx: &Cx, arn: &str) -> Result<Pairs, AwsError> {
        let call = cx
            .aws
            .elasticache
            .list_tags_for_resource()
            .resource_name(arn);
        let found = call
            .send()
            .await
            .map_err(api("elasticache:ListTagsForResource"))?;
        Ok(pairs(found.tag_list()))
    }
    async fn tag(&self, cx: &Cx, arn: &str, fresh: Pairs) -> Result<(), AwsError> {
        let call = cx.aws.elasticache.add_tags_to_resource().resource_name(arn);
        let result = call.set_tags(Some(sdk_tags(fresh))).send().await;
        result
            .map(drop)
            .map_err(api("elasticache:AddTagsToResource"))
    }
    async fn untag(&self, cx: &Cx, arn: &str, stale: Vec<String>) -> Result<(), AwsError> {
        let call = cx
            .aws
            .elasticache
            .remove_tags_from_resource()
            .resource_name(arn);
        let result = call.set_tag_keys(Some(stale)).send().await;
        result
            .map(drop)
            .map_err(api("elasticache:RemoveTagsFromResource"))
    }
}

#[async_trait]
impl TagApi for Secrets {
    async fn list(&self, cx: &Cx, arn: &str) -> Result<Pairs, AwsError> {
        let call = cx.aws.secrets.describe_secret().secret_id(arn);
        let found = call
            .send()
            .await
            .map_err(api("secretsmanager:DescribeSecret"))?;
        Ok(pairs(found.tags()))
    }
    async fn tag(&self, cx: &Cx, arn: &str, fresh: Pairs) -> Result<(), AwsError> {
        let call = cx.aws.secrets.tag_resource().secret_id(arn);
        let result = call.set_tags(Some(sdk_tags(fresh))).send().await;
        result.map(drop).map_err(api("secretsmanager:TagResource"))
    }
    async fn untag(&self, cx: &Cx, arn: &str, stale: Vec<String>) -> Result<(), AwsError> {
        let call = cx.aws.secrets.untag_resource().secret_id(arn);
        let result = call.set_tag_keys(Some(stale)).send().await;
        result
            .map(drop)
            .map_err(api("secretsmanager:UntagResource"))
    }
}

#[async_trait]
impl TagApi for Logs {
    async fn list(&self, cx: &Cx, arn: &str) -> Result<Pairs, AwsError> {
        let call = cx.aws.logs.list_tags_for_resource().resource_arn(arn);
        let found = call.send().await.map_err(api("logs:ListTagsForResource"))?;
        Ok(map_pairs(found.tags()))
    }
    async fn tag(&self, cx: &Cx, arn: &str, fresh: Pairs) -> Result<(), AwsError> {
        let call = cx.aws.logs.tag_resource().resource_arn(arn);
        let result = call
            .set_tags(Some(fresh.into_iter().collect()))
            .send()
            .await;
        result.map(drop).map_err(api("logs:TagResource"))
    }
    async fn untag(&self, cx: &Cx, arn: &str, stale: Vec<String>) -> Result<(), AwsError> {
        let call = cx.aws.logs.untag_resource().resource_arn(arn);
        call.set_tag_keys(Some(stale))
            .send()
            .await
            .map(drop)
            .map_err(api("logs:UntagResource"))
    }
}

#[async_trait]
impl TagApi for AutoScaling {
    async fn list(&self, cx: &Cx, arn: &str) -> Result<Pairs, AwsError> {
        let call = cx
            .aws
            .autoscaling
            .list_tags_for_resource()
            .resource_arn(arn);
        let operation = "application-autoscaling:ListTagsForResource";
        Ok(map_pairs(call.send().await.map_err(api(operation))?.tags()))
    }
    async fn tag(&self, cx: &Cx, arn: &str, fresh: Pairs) -> Result<(), AwsError> {
        let call = cx.aws.autoscaling.tag_resource().resource_arn(arn);
        let result = call
            .set_tags(Some(fresh.into_iter().collect()))
            .send()
            .await;
        result
            .map(drop)
            .map_err(api("application-autoscaling:TagResource"))
    }
    async fn untag(&self, cx: &Cx, arn: &str, stale: Vec<String>) -> Result<(), AwsError> {
        let call = cx.aws.autoscaling.untag_resource().resource_arn(arn);
        let result = call.set_tag_keys(Some(stale)).send().await;
        result
            .map(drop)
            .map_err(api("application-autoscaling:UntagResource"))
    }
}

#[async_trait]
impl TagApi for ApiGateway {
    async fn list(&self, cx: &Cx, arn: &str) -> Result<Pairs, AwsError> {
        let call = cx.aws.apigw.get_tags().resource_arn(arn);
        Ok(map_pairs(
            call.send().await.map_err(api("apigateway:GetTags"))?.tags(),
        ))
    }
    async fn tag(&self, cx: &Cx, arn: &str, fresh: Pairs) -> Result<(), AwsError> {
        let call = cx.aws.apigw.tag_resource().resource_arn(arn);
        let result = call
            .set_tags(Some(fresh.into_iter().collect()))
            .send()
            .await;
        result.map(drop).map_err(api("apigateway:TagResource"))
    }
    async fn untag(&self, cx: &Cx, arn: &str, stale: Vec<String>) -> Result<(), AwsError> {
        let call = cx.aws.apigw.untag_resource().resource_arn(arn);
        call.set_tag_keys(Some(stale))
            .send()
            .await
            .map(drop)
            .map_err(api("apigateway:UntagResource"))
    }
}

#[async_trait]
impl TagApi for IamRoles {
    async fn list(&self, cx: &Cx, name: &str) -> Result<Pairs, AwsError> {
        let call = cx.aws.iam.list_role_tags().role_name(name);
        Ok(pairs(
            call.send().await.map_err(api("iam:ListRoleTags"))?.tags(),
        ))
    }
    async fn tag(&self, cx: &Cx, name: &str, fresh: Pairs) -> Result<(), AwsError> {
        let call = cx.aws.iam.tag_role().role_name(name);
        call.set_tags(Some(sdk_tags(fresh)))
            .send()
            .await
            .map(drop)
            .map_err(api("iam:TagRole"))
    }
    async fn untag(&self, cx: &Cx, name: &str, stale: Vec<String>) -> Result<(), AwsError> {
        let call = cx.aws.iam.untag_role().role_name(name);
        call.set_tag_keys(Some(stale))
            .send()
            .await
            .map(drop)
            .map_err(api("iam:UntagRole"))
    }
}

#[async_trait]
impl TagApi for HealthChecks {
    async fn list(&self, cx: &Cx, id: &str) -> Result<Pairs, AwsError> {
        use aws_sdk_route53::types::TagResourceType;
        let call = cx.aws.route53.list_tags_for_resource().resource_id(id);
        let call = call.resource_type(TagResourceType::Healthcheck);
        let found = call
            .send()
            .await
            .map_err(api("route53:ListTagsForResource"))?;
        Ok(found
            .resource_tag_set()
            .map(|set| pairs(set.tags()))
            .unwrap_or_default())
    }
    async fn tag(&self, cx: &Cx, id: &str, fresh: Pairs) -> Result<(), AwsError> {
        let call = health_check_tags(cx, id).set_add_tags(Some(sdk_tags(fresh)));
        call.send()
            .await
            .map(drop)
            .map_err(api("route53:ChangeTagsForResource"))
    }
    async fn untag(&self, cx: &Cx, id: &str, stale: Vec<String>) -> Result<(), AwsError> {
        let call = health_check_tags(cx, id).set_remove_tag_keys(Some(stale));
        call.send()
            .await
            .map(drop)
            .map_err(api("route53:ChangeTagsForResource"))
    }
}

fn health_check_tags(
    cx: &Cx,
    id: &str,
) -> aws_sdk_route53::operation::change_tags_for_resource::builders::ChangeTagsForResourceFluentBuilder
{
    use aws_sdk_route53::types::TagResourceType;
    let call = cx.aws.route53.change_tags_for_resource();
    call.resource_type(TagResourceType::Healthcheck)
        .resource_id(id)
}
