//! One security group rule (`id` is its `sgr-` id). Rules are untaggable here, so ownership lives
//! in the rule's description, `"<stack>: <logical>"`, and rules are found through the stack's
//! tagged groups.

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, SecurityGroup as AwsGroup,
    SecurityGroupRule as AwsRule, SecurityGroupRuleRequest, SecurityGroupRuleUpdate,
    UserIdGroupPair,
};

use super::ec2_common::{answered_id, entry, with_id};
use super::security_group::owned_groups;
use super::Driver;
use crate::aws::attrs::{s, synthetic_tags, Attrs, AttrsExt};
use crate::aws::{api, gone_ok, not_in_place, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct SecurityGroupRule;

/// Where traffic a rule allows comes from (ingress) or goes to (egress).
#[derive(Debug, Clone, PartialEq)]
enum Peer {
    Group(String),
    Cidr(String),
}

/// What makes a rule the rule it is (AWS refuses two rules of one shape in a group).
#[derive(Debug, Clone, PartialEq)]
struct Shape {
    group_id: String,
    egress: bool,
    protocol: String,
    from_port: i32,
    to_port: i32,
    peer: Peer,
}

/// A rule as we send it.
#[derive(Debug, Clone)]
struct Spec {
    shape: Shape,
    description: String,
}

#[async_trait]
impl Driver for SecurityGroupRule {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let groups = owned_groups(cx).await?;
        let group_ids: Vec<String> = groups
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect();
        if group_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rules = rules_of_groups(cx, group_ids).await?;
        let described = descriptions(&groups);
        let prefix = format!("{}: ", cx.stack);
        let mut out: Vec<(String, Observed)> = Vec::new();
        for rule in &rules {
            let description = description_of(rule, &described);
            let Some(logical) = description.and_then(|d| d.strip_prefix(&prefix)) else {
                continue;
            };
            // A copy of one of our rules made by hand carries the same description: keep one.
            if out.iter().any(|(seen, _)| seen == logical) {
                continue;
            }
            let mut attrs = attrs_of(rule);
            attrs.insert("description".into(), s(format!("{prefix}{logical}")));
            attrs.insert("tags".into(), synthetic_tags(&cx.stack, logical));
            out.push(entry(
                ResourceKind::SecurityGroupRule,
                logical.to_string(),
                attrs,
            ));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let spec = spec_of(logical, want)?;
        let ec2 = &cx.aws.ec2;
        let created = if spec.shape.egress {
            ec2.authorize_security_group_egress()
                .group_id(&spec.shape.group_id)
                .ip_permissions(permission(&spec))
                .send()
                .await
                .map_err(api("ec2:AuthorizeSecurityGroupEgress"))
                .map(|out| out.security_group_rules().to_vec())
        } else {
            ec2.authorize_security_group_ingress()
                .group_id(&spec.shape.group_id)
                .ip_permissions(permission(&spec))
                .send()
                .await
                .map_err(api("ec2:AuthorizeSecurityGroupIngress"))
                .map(|out| out.security_group_rules().to_vec())
        };
        let id = match created {
            Ok(rules) => answered_id(
                rules.first().and_then(|r| r.security_group_rule_id()),
                "ec2:AuthorizeSecurityGroupIngress",
                logical,
            )?,
            Err(error) if error.code() == Some("InvalidPermission.Duplicate") => {
                adopt(cx, logical, &spec).await?
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
        let id = have.str("id")?;
        if let Some(other) = changed.iter().find(|c| *c != "description") {
            return Err(not_in_place(logical, "security group rule", other));
        }
        if !changed.is_empty() {
            let spec = spec_of(logical, want)?;
            let change = SecurityGroupRuleUpdate::builder()
                .security_group_rule_id(id)
                .security_group_rule(request(&spec))
                .build();
            cx.aws
                .ec2
                .modify_security_group_rules()
                .group_id(&spec.shape.group_id)
                .security_group_rules(change)
                .send()
                .await
                .map_err(api("ec2:ModifySecurityGroupRules"))?;
        }
        Ok(with_id(want, id))
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let id = have.str("id")?;
        let group = have.str("group_id")?;
        let ec2 = &cx.aws.ec2;
        let result = if have.opt_str("direction") == Some("egress") {
            ec2.revoke_security_group_egress()
                .group_id(group)
                .security_group_rule_ids(id)
                .send()
                .await
                .map(|_| ())
                .map_err(api("ec2:RevokeSecurityGroupEgress"))
        } else {
            ec2.revoke_security_group_ingress()
                .group_id(group)
                .security_group_rule_ids(id)
                .send()
                .await
                .map(|_| ())
                .map_err(api("ec2:RevokeSecurityGroupIngress"))
        };
        gone_ok(result)
    }
}

/// The shape of a described rule (`None` for peers we do not manage, e.g. prefix lists).
fn shape_of(rule: &AwsRule) -> Option<Shape> {
    let peer = match rule.referenced_group_info().and_then(|g| g.group_id()) {
        Some(group) => Peer::Group(group.to_string()),
        None => Peer::Cidr(rule.cidr_ipv4().or(rule.cidr_ipv6())?.to_string()),
    };
    Some(Shape {
        group_id: rule.group_id()?.to_string(),
        egress: rule.is_egress()?,
        protocol: rule.ip_protocol()?.to_string(),
        from_port: rule.from_port().unwrap_or(-1),
        to_port: rule.to_port().unwrap_or(-1),
        peer,
    })
}

/// A rule's description, from DescribeSecurityGroupRules or else from the group's permissions.
fn description_of<'a>(rule: &'a AwsRule, described: &'a [(Shape, String)]) -> Option<&'a str> {
    rule.description().or_else(|| {
        let shape = shape_of(rule)?;
        described
            .iter()
            .find(|(s, _)| *s == shape)
            .map(|(_, d)| d.as_str())
    })
}

/// Rule descriptions as DescribeSecurityGroups reports them inside each permission. Some
/// implementations (moto) leave the description out of DescribeSecurityGroupRules for rules
/// that reference a group, while AWS reports it in both places.
fn descriptions(groups: &[AwsGroup]) -> Vec<(Shape, String)> {
    let mut out = Vec::new();
    for group in groups {
        let Some(group_id) = group.group_id() else {
            continue;
        };
        let sides = [
            (false, group.ip_permissions()),
            (true, group.ip_permissions_egress()),
        ];
        for (egress, permissions) in sides {
            for permission in permissions {
                let shape = |peer: Peer| Shape {
                    group_id: group_id.to_string(),
                    egress,
                    protocol: permission.ip_protocol().unwrap_or("-1").to_string(),
                    from_port: permission.from_port().unwrap_or(-1),
                    to_port: permission.to_port().unwrap_or(-1),
                    peer,
                };
                let peers = permission_peers(permission);
                for (peer, description) in peers {
                    out.push((shape(peer), description.to_string()));
                }
            }
        }
    }
    out
}

/// Each peer of a permission with its description.
fn permission_peers(permission: &IpPermission) -> Vec<(Peer, &str)> {
    let groups = permission
        .user_id_group_pairs()
        .iter()
        .filter_map(|p| Some((Peer::Group(p.group_id()?.into()), p.description()?)));
    let v4 = permission
        .ip_ranges()
        .iter()
        .filter_map(|r| Some((Peer::Cidr(r.cidr_ip()?.into()), r.description()?)));
    let v6 = permission
        .ipv6_ranges()
        .iter()
        .filter_map(|r| Some((Peer::Cidr(r.cidr_ipv6()?.into()), r.description()?)));
    groups.chain(v4).chain(v6).collect()
}

async fn rules_of_groups(cx: &Cx, group_ids: Vec<String>) -> Result<Vec<AwsRule>, AwsError> {
    let filter = Filter::builder()
        .name("group-id")
        .set_values(Some(group_ids))
        .build();
    cx.aws
        .ec2
        .describe_security_group_rules()
        .filters(filter)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(api("ec2:DescribeSecurityGroupRules"))
}

/// Observed attributes in the desired shape (`cidr` or `source_group_id`), without the
/// description and tags (the caller knows them).
fn attrs_of(rule: &AwsRule) -> Attrs {
    let mut attrs = Attrs::new();
    let text = |key: &str, value: Option<&str>, attrs: &mut Attrs| {
        if let Some(value) = value {
            attrs.insert(key.to_string(), s(value));
        }
    };
    text("id", rule.security_group_rule_id(), &mut attrs);
    text("group_id", rule.group_id(), &mut attrs);
    let direction = if rule.is_egress() == Some(true) {
        "egress"
    } else {
        "ingress"
    };
    attrs.insert("direction".into(), s(direction));
    text("protocol", rule.ip_protocol(), &mut attrs);
    for (key, port) in [("from_port", rule.from_port()), ("to_port", rule.to_port())] {
        if let Some(port) = port {
            attrs.insert(key.into(), Attr::Int(port.into()));
        }
    }
    text("cidr", rule.cidr_ipv4().or(rule.cidr_ipv6()), &mut attrs);
    let source = rule.referenced_group_info().and_then(|g| g.group_id());
    text("source_group_id", source, &mut attrs);
    attrs
}

/// The rule `want` describes; exactly one of `source_group_id` and `cidr`.
fn spec_of(logical: &str, want: &Attrs) -> Result<Spec, AwsError> {
    let peer = match (want.opt_str("source_group_id"), want.opt_str("cidr")) {
        (Some(group), None) => Peer::Group(group.to_string()),
        (None, Some(cidr)) => Peer::Cidr(cidr.to_string()),
        _ => {
            return Err(AwsError::Model(format!(
                "{logical}: a rule needs exactly one of `source_group_id` and `cidr`"
            )))
        }
    };
    let port = |key: &str| -> Result<i32, AwsError> {
        let value = want.int(key)?;
        i32::try_from(value)
            .map_err(|_| AwsError::Model(format!("{logical}: `{key}` {value} is out of range")))
    };
    let egress = match want.str("direction")?.to_ascii_lowercase().as_str() {
        "ingress" => false,
        "egress" => true,
        other => {
            return Err(AwsError::Model(format!(
                "{logical}: direction `{other}` is neither ingress nor egress"
            )))
        }
    };
    let shape = Shape {
        group_id: want.str("group_id")?.to_string(),
        egress,
        protocol: want.str("protocol")?.to_ascii_lowercase(),
        from_port: port("from_port")?,
        to_port: port("to_port")?,
        peer,
    };
    Ok(Spec {
        shape,
        description: want.str("description")?.to_string(),
    })
}

/// The `IpPermission` that authorizes `spec` (the description rides on the peer).
fn permission(spec: &Spec) -> IpPermission {
    let call = IpPermission::builder()
        .ip_protocol(&spec.shape.protocol)
        .from_port(spec.shape.from_port)
        .to_port(spec.shape.to_port);
    let description = spec.description.clone();
    match &spec.shape.peer {
        Peer::Group(group) => call.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(group)
                .description(description)
                .build(),
        ),
        Peer::Cidr(cidr) if cidr.contains(':') => call.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(cidr)
                .description(description)
                .build(),
        ),
        Peer::Cidr(cidr) => call.ip_ranges(
            IpRange::builder()
                .cidr_ip(cidr)
                .description(description)
                .build(),
        ),
    }
    .build()
}

/// The full rule for ModifySecurityGroupRules, which replaces a rule's every field.
fn request(spec: &Spec) -> SecurityGroupRuleRequest {
    let call = SecurityGroupRuleRequest::builder()
        .ip_protocol(&spec.shape.protocol)
        .from_port(spec.shape.from_port)
        .to_port(spec.shape.to_port)
        .description(&spec.description);
    match &spec.shape.peer {
        Peer::Group(group) => call.referenced_group_id(group),
        Peer::Cidr(cidr) if cidr.contains(':') => call.cidr_ipv6(cidr),
        Peer::Cidr(cidr) => call.cidr_ipv4(cidr),
    }
    .build()
}

/// The id of the existing rule equal to `spec` when it carries our description (a run that died
/// after authorizing it); an equal rule described otherwise belongs to someone else.
async fn adopt(cx: &Cx, logical: &str, spec: &Spec) -> Result<String, AwsError> {
    let rules = rules_of_groups(cx, vec![spec.shape.group_id.clone()]).await?;
    let groups = cx
        .aws
        .ec2
        .describe_security_groups()
        .group_ids(&spec.shape.group_id)
        .send()
        .await
        .map_err(api("ec2:DescribeSecurityGroups"))?;
    let described = descriptions(groups.security_groups());
    let same = rules
        .iter()
        .find(|rule| shape_of(rule).as_ref() == Some(&spec.shape));
    match same {
        Some(rule) if description_of(rule, &described) == Some(spec.description.as_str()) => {
            answered_id(
                rule.security_group_rule_id(),
                "ec2:DescribeSecurityGroupRules",
                logical,
            )
        }
        _ => Err(AwsError::Failed(format!(
            "{logical}: an equal rule already exists in {} without the description `{}` \
             (it is not this stack's; remove it or give it that description)",
            spec.shape.group_id, spec.description
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(peer: (&str, &str)) -> Attrs {
        let mut want = Attrs::from([
            ("group_id".to_string(), s("sg-1")),
            ("direction".to_string(), s("INGRESS")),
            ("protocol".to_string(), s("TCP")),
            ("from_port".to_string(), Attr::Int(8000)),
            ("to_port".to_string(), Attr::Int(8000)),
            ("description".to_string(), s("stack: proxy")),
        ]);
        want.insert(peer.0.to_string(), s(peer.1));
        want
    }

    #[test]
    fn request_carries_the_peer_by_its_kind() {
        let v4 = request(&spec_of("r", &rule(("cidr", "10.0.0.0/16"))).unwrap());
        assert_eq!(v4.cidr_ipv4(), Some("10.0.0.0/16"));
        assert_eq!(
            (v4.ip_protocol(), v4.from_port()),
            (Some("tcp"), Some(8000))
        );
        let v6 = request(&spec_of("r", &rule(("cidr", "::/0"))).unwrap());
        assert_eq!(v6.cidr_ipv6(), Some("::/0"));
        let group = request(&spec_of("r", &rule(("source_group_id", "sg-2"))).unwrap());
        assert_eq!(group.referenced_group_id(), Some("sg-2"));
        assert!(spec_of("r", &rule(("direction", "sideways"))).is_err());
    }
}
