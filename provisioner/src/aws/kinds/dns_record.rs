//! Route53 alias records: the failover pair (PRIMARY on the NLB with the health check, SECONDARY
//! on the fallback API's custom domain) or one plain alias to the NLB.
//!
//! Records take no tags. Ownership goes into the `SetIdentifier`, which AWS shows as
//! `<stack>/<logical>/<set_identifier>`: the set identifier alone ("primary") would be the same
//! in every stack sharing a zone. A record without a set identifier cannot record an owner; it is
//! matched through `desired` (zone, name and type), as its name is the stack's to begin with.
//! Records are looked for only in the zones that `desired` names.

use async_trait::async_trait;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecordSet, ResourceRecordSetFailover,
    RrType,
};

use super::edge_common::dns_name;
use super::lifecycle::Lifecycle;
use super::{Driver, Goal, Progress};
use crate::aws::attrs::{s, synthetic_tags, Attrs, AttrsExt};
use crate::aws::{api, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct DnsRecord;

/// A change is done once Route53 has it on all its servers (status `INSYNC`, lower-cased here
/// for the progress display); a deleted record has nothing to wait for.
const LIFECYCLE: Lifecycle = Lifecycle::ready_when("the record change", &["insync"]);

/// AWS's limit on a set identifier.
const SET_IDENTIFIER_MAX: usize = 128;

/// The hosted zone id (without `/hostedzone/`) of the public zone named `zone`; `None` if absent.
async fn zone_id(cx: &Cx, zone: &str) -> Result<Option<String>, AwsError> {
    let found = cx
        .aws
        .route53
        .list_hosted_zones_by_name()
        .dns_name(zone)
        .max_items(10)
        .send()
        .await
        .map_err(api("route53:ListHostedZonesByName"))?;
    let public: Vec<&str> = found
        .hosted_zones()
        .iter()
        .filter(|z| dns_name(z.name()) == dns_name(zone))
        .filter(|z| !z.config().is_some_and(|c| c.private_zone()))
        .map(|z| z.id().trim_start_matches("/hostedzone/"))
        .collect();
    match public.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.to_string())),
        _ => Err(AwsError::Failed(format!(
            "several public hosted zones are named {zone}: keep one (delete the others)"
        ))),
    }
}

async fn require_zone(cx: &Cx, logical: &str, zone: &str) -> Result<String, AwsError> {
    zone_id(cx, zone).await?.ok_or_else(|| {
        AwsError::Failed(format!(
            "{logical}: hosted zone {zone} not found: create it (you own the domain) or point \
             the stack's `dns.zone` at a zone this account has"
        ))
    })
}

/// Every record of a zone from `start` on (`None`: the whole zone), following truncation.
async fn records(
    cx: &Cx,
    zone_id: &str,
    start: Option<&str>,
) -> Result<Vec<ResourceRecordSet>, AwsError> {
    let mut out = Vec::new();
    let mut next: (Option<String>, Option<RrType>, Option<String>) =
        (start.map(str::to_string), None, None);
    loop {
        let page = cx
            .aws
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .set_start_record_name(next.0.clone())
            .set_start_record_type(next.1.clone())
            .set_start_record_identifier(next.2.clone())
            .send()
            .await
            .map_err(api("route53:ListResourceRecordSets"))?;
        out.extend(page.resource_record_sets().iter().cloned());
        // Looking for one name: stop once the listing has gone past it.
        let past = start.is_some_and(|name| {
            out.last()
                .is_some_and(|r| dns_name(r.name()) != dns_name(name))
        });
        if !page.is_truncated() || past {
            return Ok(out);
        }
        next = (
            page.next_record_name().map(str::to_string),
            page.next_record_type().cloned(),
            page.next_record_identifier().map(str::to_string),
        );
    }
}

/// The SetIdentifier sent to AWS for a record that has one.
fn wire_identifier(stack: &str, logical: &str, want: &Attrs) -> Result<Option<String>, AwsError> {
    let Some(id) = want.opt_str("set_identifier") else {
        return Ok(None);
    };
    let wire = format!("{stack}/{logical}/{id}");
    if wire.len() > SET_IDENTIFIER_MAX {
        return Err(AwsError::Model(format!(
            "{logical}: set identifier `{wire}` is longer than {SET_IDENTIFIER_MAX} characters"
        )));
    }
    Ok(Some(wire))
}

/// `(logical, set_identifier)` from a SetIdentifier written for `stack`.
fn parse_identifier<'a>(stack: &str, wire: &'a str) -> Option<(&'a str, &'a str)> {
    let rest = wire.strip_prefix(stack)?.strip_prefix('/')?;
    rest.split_once('/')
}

/// The record as desired attributes (set identifier without its owner prefix).
fn attrs_of(record: &ResourceRecordSet, zone: &str, set_identifier: Option<&str>) -> Attrs {
    let mut attrs = Attrs::new();
    attrs.insert("zone".into(), s(zone));
    attrs.insert("name".into(), s(dns_name(record.name())));
    attrs.insert("type".into(), s(record.r#type().as_str()));
    if let Some(alias) = record.alias_target() {
        let map = [
            ("dns_name", s(dns_name(alias.dns_name()))),
            ("zone_id", s(alias.hosted_zone_id())),
            (
                "evaluate_target_health",
                Attr::Bool(alias.evaluate_target_health()),
            ),
        ];
        attrs.insert(
            "alias".into(),
            Attr::Map(map.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
        );
    }
    if let Some(id) = set_identifier {
        attrs.insert("set_identifier".into(), s(id));
    }
    if let Some(failover) = record.failover() {
        attrs.insert("failover".into(), s(failover.as_str()));
    }
    if let Some(health) = record.health_check_id() {
        attrs.insert("health_check_id".into(), s(health));
    }
    attrs
}

/// The record set `want` describes, as AWS takes it.
fn record_set(cx: &Cx, logical: &str, want: &Attrs) -> Result<ResourceRecordSet, AwsError> {
    let model = |e: aws_sdk_route53::error::BuildError| AwsError::Model(format!("{logical}: {e}"));
    let alias = want.map("alias")?;
    let target = AliasTarget::builder()
        .dns_name(alias.str("dns_name")?)
        .hosted_zone_id(alias.str("zone_id")?)
        .evaluate_target_health(alias.opt_bool("evaluate_target_health").unwrap_or(false))
        .build()
        .map_err(model)?;
    ResourceRecordSet::builder()
        .name(want.str("name")?)
        .r#type(RrType::from(want.str("type")?))
        .alias_target(target)
        .set_set_identifier(wire_identifier(&cx.stack, logical, want)?)
        .set_failover(
            want.opt_str("failover")
                .map(ResourceRecordSetFailover::from),
        )
        .set_health_check_id(want.opt_str("health_check_id").map(str::to_string))
        .build()
        .map_err(model)
}

/// Sends one change; returns the change id, for `poll` to wait on INSYNC.
async fn change(
    cx: &Cx,
    logical: &str,
    zone_id: &str,
    action: ChangeAction,
    record: ResourceRecordSet,
) -> Result<String, AwsError> {
    let model = |e: aws_sdk_route53::error::BuildError| AwsError::Model(format!("{logical}: {e}"));
    let change = Change::builder()
        .action(action)
        .resource_record_set(record)
        .build()
        .map_err(model)?;
    let batch = ChangeBatch::builder()
        .changes(change)
        .comment(format!("provisioner {} {logical}", cx.stack))
        .build()
        .map_err(model)?;
    let done = cx
        .aws
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(batch)
        .send()
        .await
        .map_err(api("route53:ChangeResourceRecordSets"))?;
    Ok(done
        .change_info()
        .map(|info| info.id().trim_start_matches("/change/").to_string())
        .unwrap_or_default())
}

/// Creating and updating are the same UPSERT of the whole record.
async fn upsert(cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
    let zone = want.str("zone")?;
    let zone_id = require_zone(cx, logical, zone).await?;
    let record = record_set(cx, logical, want)?;
    let change_id = change(cx, logical, &zone_id, ChangeAction::Upsert, record).await?;
    let mut have = want.clone();
    have.insert("zone_id".into(), s(zone_id));
    have.insert("change_id".into(), s(change_id));
    have.insert("tags".into(), synthetic_tags(&cx.stack, logical));
    Ok(have)
}

/// The record AWS holds now for `have`'s name, type and set identifier.
async fn current(
    cx: &Cx,
    logical: &str,
    zone_id: &str,
    have: &Attrs,
) -> Result<Option<ResourceRecordSet>, AwsError> {
    let name = dns_name(have.str("name")?);
    let kind = have.str("type")?.to_ascii_uppercase();
    let wire = wire_identifier(&cx.stack, logical, have)?;
    Ok(records(cx, zone_id, Some(&name))
        .await?
        .into_iter()
        .find(|r| {
            dns_name(r.name()) == name
                && r.r#type().as_str() == kind
                && r.set_identifier() == wire.as_deref()
        }))
}

#[async_trait]
impl Driver for DnsRecord {
    async fn observe(
        &self,
        cx: &Cx,
        desired: &[&Resource],
    ) -> Result<Vec<(String, Observed)>, AwsError> {
        let mut zones: Vec<&str> = desired
            .iter()
            .filter_map(|r| match r.attrs.get("zone") {
                Some(Attr::Str(zone)) => Some(zone.as_str()),
                _ => None,
            })
            .collect();
        zones.sort_unstable();
        zones.dedup();
        let mut out = Vec::new();
        for zone in zones {
            // A missing zone is reported by create, where the message can say what to do.
            let Some(id) = zone_id(cx, zone).await? else {
                continue;
            };
            for record in records(cx, &id, None).await? {
                let Some((logical, set_id)) = owner(cx, desired, zone, &record) else {
                    continue;
                };
                let mut attrs = attrs_of(&record, zone, set_id.as_deref());
                attrs.insert("zone_id".into(), s(&id));
                attrs.insert("tags".into(), synthetic_tags(&cx.stack, &logical));
                out.push((
                    logical,
                    Observed {
                        kind: ResourceKind::DnsRecord,
                        attrs,
                    },
                ));
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        upsert(cx, logical, want).await
    }

    async fn update(
        &self,
        cx: &Cx,
        logical: &str,
        _have: &Attrs,
        want: &Attrs,
        _changed: &[String],
    ) -> Result<Attrs, AwsError> {
        upsert(cx, logical, want).await
    }

    async fn delete(&self, cx: &Cx, logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let zone_id = match have.opt_str("zone_id") {
            Some(id) => id.to_string(),
            None => match zone_id(cx, have.str("zone")?).await? {
                Some(id) => id,
                None => return Ok(()),
            },
        };
        // DELETE must name the record exactly as it is, so send what AWS holds, not our copy.
        let Some(record) = current(cx, logical, &zone_id, have).await? else {
            return Ok(());
        };
        if let Err(error) = change(cx, logical, &zone_id, ChangeAction::Delete, record).await {
            // Deleted meanwhile by someone else: gone is what was asked.
            if current(cx, logical, &zone_id, have).await?.is_some() {
                return Err(error);
            }
        }
        Ok(())
    }

    async fn poll(&self, cx: &Cx, have: &Attrs, goal: Goal) -> Result<Progress, AwsError> {
        let Some(change_id) = have.opt_str("change_id").filter(|_| goal == Goal::Ready) else {
            return Ok(Progress::Done(None));
        };
        let found = cx
            .aws
            .route53
            .get_change()
            .id(change_id)
            .send()
            .await
            .map_err(api("route53:GetChange"))?;
        let status = found
            .change_info()
            .map(|c| c.status().as_str().to_lowercase());
        Ok(LIFECYCLE.progress(goal, Some(status.as_deref().unwrap_or("unknown"))))
    }
}

/// The logical name and set identifier of a record this stack owns: from its SetIdentifier, or
/// for a record without one, from the desired record of the same zone, name and type.
fn owner(
    cx: &Cx,
    desired: &[&Resource],
    zone: &str,
    record: &ResourceRecordSet,
) -> Option<(String, Option<String>)> {
    if let Some(wire) = record.set_identifier() {
        let (logical, id) = parse_identifier(&cx.stack, wire)?;
        return Some((logical.to_string(), Some(id.to_string())));
    }
    desired
        .iter()
        .find(|r| {
            let text = |key: &str| match r.attrs.get(key) {
                Some(Attr::Str(v)) => Some(dns_name(v)),
                _ => None,
            };
            text("zone") == Some(dns_name(zone))
                && text("name") == Some(dns_name(record.name()))
                && text("type") == Some(record.r#type().as_str().to_ascii_lowercase())
                && !r.attrs.contains_key("set_identifier")
        })
        .map(|r| (r.logical.clone(), None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::kinds::lifecycle::shown;

    #[test]
    fn change_statuses() {
        assert_eq!(shown(&LIFECYCLE, Goal::Ready, Some("insync")), "done");
        assert_eq!(shown(&LIFECYCLE, Goal::Ready, Some("pending")), "pending");
    }

    #[test]
    fn set_identifiers_carry_their_owner() {
        assert_eq!(
            parse_identifier("gw", "gw/dns.primary/primary"),
            Some(("dns.primary", "primary"))
        );
        assert_eq!(parse_identifier("gw", "gw-prod/dns.primary/primary"), None);
        assert_eq!(parse_identifier("gw", "primary"), None);
    }
}
