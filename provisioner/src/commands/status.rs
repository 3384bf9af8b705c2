//! `provision status`: the running state (service tasks and deployments, load balancer targets,
//! the Route53 health check and so which side DNS serves), plus checks `up` makes before changing
//! anything (the hosted zone exists).

use super::{CommandError, Session};
use crate::aws::{api, AttrsExt, AwsError};
use crate::core::Observed;

pub async fn run(session: &Session) -> Result<u8, CommandError> {
    let observed = session.observe().await?;
    let get = |logical: &str| observed.get(logical);
    match get("service.gateway") {
        Some(service) => println!("service    {}", service_line(session, service).await?),
        None => println!("service    absent"),
    }
    match get("target_group.gateway") {
        Some(tg) => println!("targets    {}", targets_line(session, tg).await?),
        None => println!("targets    absent"),
    }
    match get("health_check.gateway") {
        Some(check) => {
            let healthy = match crate::deploy::local_health_check(&session.deploy()).await {
                Some(healthy) => Some(healthy),
                None => health_check_healthy(session, check).await?,
            };
            let side = match (healthy, get("dns.secondary").is_some()) {
                (Some(true), _) | (_, false) => "PRIMARY (the gateway behind the NLB)",
                (Some(false), true) => "SECONDARY (the fallback HTTP API)",
                (None, true) => "PRIMARY (no checker has reported yet)",
            };
            let state = match healthy {
                Some(true) => "healthy",
                Some(false) => "unhealthy",
                None => "no reports yet",
            };
            println!("health     {state}");
            println!("dns        serves {side}");
        }
        None => println!("health     no health check"),
    }
    if let Some(line) = crate::deploy::local_status(&session.deploy(), &observed).await {
        println!("local      {line}");
    }
    match crate::deploy::record::read(&session.cx).await? {
        Some(deployed) => println!(
            "deployed   {} ({} configuration lines)",
            deployed.task_definition,
            deployed.config.lines().count()
        ),
        None => println!("deployed   never"),
    }
    Ok(0)
}

async fn service_line(session: &Session, service: &Observed) -> Result<String, AwsError> {
    let (cluster, name) = (service.attrs.str("cluster")?, service.attrs.str("name")?);
    let found = session
        .cx
        .aws
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(name)
        .send()
        .await
        .map_err(api("ecs:DescribeServices"))?;
    let Some(svc) = found.services().first() else {
        return Ok("absent".into());
    };
    let deployments: Vec<String> = svc
        .deployments()
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d.status().unwrap_or("?"),
                d.rollout_state().map(|r| r.as_str()).unwrap_or("?")
            )
        })
        .collect();
    Ok(format!(
        "{name}: {} running / {} desired, {} pending; deployments: {}",
        svc.running_count(),
        svc.desired_count(),
        svc.pending_count(),
        deployments.join(", ")
    ))
}

async fn targets_line(session: &Session, tg: &Observed) -> Result<String, AwsError> {
    let found = session
        .cx
        .aws
        .elbv2
        .describe_target_health()
        .target_group_arn(tg.attrs.str("arn")?)
        .send()
        .await
        .map_err(api("elbv2:DescribeTargetHealth"))?;
    let states: Vec<String> = found
        .target_health_descriptions()
        .iter()
        .map(|d| {
            let target = d.target().and_then(|t| t.id()).unwrap_or("?");
            let state = d
                .target_health()
                .and_then(|h| h.state())
                .map(|s| s.as_str())
                .unwrap_or("?");
            format!("{target} {state}")
        })
        .collect();
    Ok(if states.is_empty() {
        "none registered".into()
    } else {
        states.join(", ")
    })
}

/// Whether Route53's checkers see the gateway healthy (majority of reports), `None` without any.
async fn health_check_healthy(
    session: &Session,
    check: &Observed,
) -> Result<Option<bool>, AwsError> {
    let found = session
        .cx
        .aws
        .route53
        .get_health_check_status()
        .health_check_id(check.attrs.str("id")?)
        .send()
        .await
        .map_err(api("route53:GetHealthCheckStatus"))?;
    let reports = found.health_check_observations();
    if reports.is_empty() {
        return Ok(None);
    }
    let healthy = reports
        .iter()
        .filter(|o| {
            o.status_report()
                .and_then(|r| r.status())
                .is_some_and(|s| s.starts_with("Success"))
        })
        .count();
    Ok(Some(healthy * 2 > reports.len()))
}

/// What must exist before `up` changes anything: the DNS hosted zone. On a stack whose endpoints
/// point at LocalStack, the zone is created (a test domain); on AWS the owner of the domain makes
/// it, and `up` stops here, before any change, when it is missing.
pub async fn prerequisites(session: &Session) -> Result<(), CommandError> {
    let Some(dns) = &session.stack.dns else {
        return Ok(());
    };
    let route53 = &session.cx.aws.route53;
    let zone = dns.zone.trim_end_matches('.');
    let found = route53
        .list_hosted_zones_by_name()
        .dns_name(zone)
        .max_items(1)
        .send()
        .await
        .map_err(api("route53:ListHostedZonesByName"))?;
    let exists = found
        .hosted_zones()
        .iter()
        .any(|z| z.name().trim_end_matches('.') == zone);
    if exists {
        return Ok(());
    }
    if session.stack.endpoints.is_none() {
        return Err(CommandError::Other(format!(
            "the Route53 hosted zone `{zone}` does not exist: create it for the domain you own \
             (dns.zone in the stack file); nothing was changed"
        )));
    }
    route53
        .create_hosted_zone()
        .name(zone)
        .caller_reference(format!("provision-{}-{zone}", session.cx.stack))
        .send()
        .await
        .map_err(api("route53:CreateHostedZone"))?;
    session.progress.note(&format!(
        "created the hosted zone `{zone}` on the local endpoint"
    ));
    Ok(())
}
