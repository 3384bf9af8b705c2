//! A route table: its routes (`{destination, target}`, target an `igw-` or `nat-` id) and the
//! subnets associated with it. The VPC's implicit `local` route is AWS's and never shown.

use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType, RouteOrigin};

use super::ec2_common::{created_id, describe_owned, entry, owned_items, with_id};
use super::tagging;
use super::{ec2_tags, Driver};
use crate::aws::attrs::{s, strs, Attrs, AttrsExt};
use crate::aws::fresh::settle;
use crate::aws::{api, found, gone_ok, not_in_place, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct RouteTable;

/// One route in our shape.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Route {
    destination: String,
    target: String,
}

/// What a table holds now: its routes and its subnet associations (subnet, association id).
struct Contents {
    routes: Vec<Route>,
    associations: Vec<(String, String)>,
}

#[async_trait]
impl Driver for RouteTable {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let tables: Vec<_> = describe_owned!(
            cx,
            describe_route_tables,
            filters,
            "ec2:DescribeRouteTables"
        )?;
        let mut out = Vec::new();
        for (logical, _, mut attrs, table) in owned_items(&cx.stack, &tables) {
            let contents = contents_of(table);
            attrs.insert("vpc_id".into(), s(table.vpc_id().unwrap_or_default()));
            attrs.insert("routes".into(), routes_attr(&contents.routes));
            let subnets = contents.associations.into_iter().map(|(subnet, _)| subnet);
            attrs.insert("subnet_ids".into(), strs(subnets));
            out.push(entry(ResourceKind::RouteTable, logical, attrs));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let created = cx
            .aws
            .ec2
            .create_route_table()
            .vpc_id(want.str("vpc_id")?)
            .tag_specifications(ec2_tags::spec(ResourceType::RouteTable, want))
            .send()
            .await
            .map_err(api("ec2:CreateRouteTable"))?;
        let id = created_id(
            cx,
            ResourceKind::RouteTable,
            created.route_table().and_then(|t| t.route_table_id()),
            "ec2:CreateRouteTable",
            logical,
        )?;
        // A run that dies here leaves a tagged table: the next plan fills in what is missing.
        let empty = Contents {
            routes: Vec::new(),
            associations: Vec::new(),
        };
        reconcile_routes(cx, &id, &empty.routes, &wanted_routes(logical, want)?).await?;
        reconcile_subnets(cx, &id, &empty.associations, &want.strs("subnet_ids")?).await?;
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
        // Read afresh: association ids are not part of the observed shape.
        let now = describe(cx, id).await?.ok_or_else(|| AwsError::Api {
            operation: "ec2:DescribeRouteTables",
            code: "InvalidRouteTableID.NotFound".into(),
            message: format!("{logical}: route table {id} is gone"),
        })?;
        for key in changed {
            match key.as_str() {
                "routes" => {
                    let wanted = wanted_routes(logical, want)?;
                    reconcile_routes(cx, id, &now.routes, &wanted).await?;
                }
                "subnet_ids" => {
                    let wanted = want.strs("subnet_ids")?;
                    reconcile_subnets(cx, id, &now.associations, &wanted).await?;
                }
                "tags" => tagging::retag(&tagging::Ec2, cx, id, have, want).await?,
                other => return Err(not_in_place(logical, "route table", other)),
            }
        }
        Ok(with_id(want, id))
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let id = have.str("id")?;
        let Some(now) = describe(cx, id).await? else {
            return Ok(());
        };
        // AWS refuses to delete a table that subnets are still associated with.
        reconcile_subnets(cx, id, &now.associations, &[]).await?;
        let result = cx
            .aws
            .ec2
            .delete_route_table()
            .route_table_id(id)
            .send()
            .await
            .map_err(api("ec2:DeleteRouteTable"));
        gone_ok(result)
    }
}

/// The table's routes and associations now, or `None` when it is gone.
async fn describe(cx: &Cx, id: &str) -> Result<Option<Contents>, AwsError> {
    let answer = cx
        .aws
        .ec2
        .describe_route_tables()
        .route_table_ids(id)
        .send()
        .await
        .map_err(api("ec2:DescribeRouteTables"));
    Ok(found(answer)?.and_then(|a| a.route_tables().first().map(contents_of)))
}

fn contents_of(table: &aws_sdk_ec2::types::RouteTable) -> Contents {
    let mut routes: Vec<Route> = table
        .routes()
        .iter()
        .filter(|r| {
            r.gateway_id() != Some("local") && r.origin() != Some(&RouteOrigin::CreateRouteTable)
        })
        .filter_map(|r| {
            let destination = r
                .destination_cidr_block()
                .or(r.destination_ipv6_cidr_block())
                .or(r.destination_prefix_list_id())?;
            let target = r
                .gateway_id()
                .or(r.nat_gateway_id())
                .or(r.egress_only_internet_gateway_id())
                .or(r.transit_gateway_id())
                .or(r.vpc_peering_connection_id())
                .or(r.network_interface_id())
                .or(r.instance_id())
                .unwrap_or_default();
            Some(Route {
                destination: destination.to_string(),
                target: target.to_string(),
            })
        })
        .collect();
    routes.sort();
    let associations = table
        .associations()
        .iter()
        .filter(|a| a.main() != Some(true))
        .filter_map(|a| {
            Some((
                a.subnet_id()?.to_string(),
                a.route_table_association_id()?.to_string(),
            ))
        })
        .collect();
    Contents {
        routes,
        associations,
    }
}

fn routes_attr(routes: &[Route]) -> Attr {
    Attr::List(
        routes
            .iter()
            .map(|r| {
                Attr::Map(Attrs::from([
                    ("destination".to_string(), s(&r.destination)),
                    ("target".to_string(), s(&r.target)),
                ]))
            })
            .collect(),
    )
}

/// The desired `routes` list of `{destination, target}` maps.
fn wanted_routes(logical: &str, want: &Attrs) -> Result<Vec<Route>, AwsError> {
    let items = match want.get("routes") {
        None => return Ok(Vec::new()),
        Some(Attr::List(items)) => items,
        Some(other) => {
            return Err(AwsError::Model(format!(
                "{logical}: `routes` should be a list, not {other:?}"
            )))
        }
    };
    items
        .iter()
        .map(|item| match item {
            Attr::Map(map) => Ok(Route {
                destination: map.str("destination")?.to_string(),
                target: map.str("target")?.to_string(),
            }),
            other => Err(AwsError::Model(format!(
                "{logical}: a route should be a map, not {other:?}"
            ))),
        })
        .collect()
}

/// Deletes routes no longer wanted, repoints those whose target changed, adds the new ones.
async fn reconcile_routes(
    cx: &Cx,
    id: &str,
    have: &[Route],
    want: &[Route],
) -> Result<(), AwsError> {
    for old in have {
        if !want.iter().any(|w| w.destination == old.destination) {
            let call = cx.aws.ec2.delete_route().route_table_id(id);
            let call = if is_ipv6(&old.destination) {
                call.destination_ipv6_cidr_block(&old.destination)
            } else {
                call.destination_cidr_block(&old.destination)
            };
            gone_ok(call.send().await.map_err(api("ec2:DeleteRoute")))?;
        }
    }
    for new in want {
        match have.iter().find(|h| h.destination == new.destination) {
            Some(old) if old.target == new.target => {}
            Some(_) => settle(cx, || replace_route(cx, id, new)).await?,
            None => settle(cx, || create_route(cx, id, new)).await?,
        }
    }
    Ok(())
}

fn is_ipv6(destination: &str) -> bool {
    destination.contains(':')
}

/// Whether a target is a NAT gateway (its own parameter) rather than an internet gateway.
fn is_nat(route: &Route) -> Result<bool, AwsError> {
    match route.target.split('-').next() {
        Some("nat") => Ok(true),
        Some("igw" | "vgw") => Ok(false),
        _ => Err(AwsError::Model(format!(
            "route to {}: target `{}` is neither an internet nor a NAT gateway",
            route.destination, route.target
        ))),
    }
}

async fn create_route(cx: &Cx, id: &str, route: &Route) -> Result<(), AwsError> {
    let call = cx.aws.ec2.create_route().route_table_id(id);
    let call = if is_ipv6(&route.destination) {
        call.destination_ipv6_cidr_block(&route.destination)
    } else {
        call.destination_cidr_block(&route.destination)
    };
    let call = if is_nat(route)? {
        call.nat_gateway_id(&route.target)
    } else {
        call.gateway_id(&route.target)
    };
    call.send().await.map_err(api("ec2:CreateRoute"))?;
    Ok(())
}

async fn replace_route(cx: &Cx, id: &str, route: &Route) -> Result<(), AwsError> {
    let call = cx.aws.ec2.replace_route().route_table_id(id);
    let call = if is_ipv6(&route.destination) {
        call.destination_ipv6_cidr_block(&route.destination)
    } else {
        call.destination_cidr_block(&route.destination)
    };
    let call = if is_nat(route)? {
        call.nat_gateway_id(&route.target)
    } else {
        call.gateway_id(&route.target)
    };
    call.send().await.map_err(api("ec2:ReplaceRoute"))?;
    Ok(())
}

/// Disassociates subnets no longer wanted and associates the new ones.
async fn reconcile_subnets(
    cx: &Cx,
    id: &str,
    have: &[(String, String)],
    want: &[String],
) -> Result<(), AwsError> {
    for (subnet, association) in have {
        if !want.contains(subnet) {
            let result = cx
                .aws
                .ec2
                .disassociate_route_table()
                .association_id(association)
                .send()
                .await
                .map_err(api("ec2:DisassociateRouteTable"));
            gone_ok(result)?;
        }
    }
    for subnet in want {
        if !have.iter().any(|(s, _)| s == subnet) {
            settle(cx, || associate(cx, id, subnet)).await?;
        }
    }
    Ok(())
}

/// Associates `subnet` with table `id`, moving it over if another table holds it (a subnet has
/// one table; moving it in one call leaves no moment on the VPC's main table).
async fn associate(cx: &Cx, id: &str, subnet: &str) -> Result<(), AwsError> {
    let holder = cx
        .aws
        .ec2
        .describe_route_tables()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("association.subnet-id")
                .values(subnet)
                .build(),
        )
        .send()
        .await
        .map_err(api("ec2:DescribeRouteTables"))?;
    let existing = holder
        .route_tables()
        .iter()
        .flat_map(|t| t.associations())
        .find(|a| a.subnet_id() == Some(subnet) && a.main() != Some(true))
        .and_then(|a| a.route_table_association_id());
    match existing {
        Some(association) => {
            cx.aws
                .ec2
                .replace_route_table_association()
                .association_id(association)
                .route_table_id(id)
                .send()
                .await
                .map_err(api("ec2:ReplaceRouteTableAssociation"))?;
        }
        None => {
            cx.aws
                .ec2
                .associate_route_table()
                .route_table_id(id)
                .subnet_id(subnet)
                .send()
                .await
                .map_err(api("ec2:AssociateRouteTable"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_routes_read_destination_and_target() {
        let route = Attr::Map(
            [("destination", "0.0.0.0/0"), ("target", "igw-1")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), s(v)))
                .collect(),
        );
        let want = Attrs::from([("routes".to_string(), Attr::List(vec![route]))]);
        let routes = wanted_routes("rt.public", &want).unwrap();
        assert_eq!(routes.len(), 1);
        assert_eq!(
            (routes[0].destination.as_str(), routes[0].target.as_str()),
            ("0.0.0.0/0", "igw-1")
        );
        assert!(wanted_routes("rt.public", &Attrs::new())
            .unwrap()
            .is_empty());
        let bad = Attrs::from([("routes".to_string(), s("nope"))]);
        assert!(wanted_routes("rt.public", &bad).is_err());
    }
}
