//! The datastores: the generated DB password secret, Aurora Serverless v2, ElastiCache Redis.

use super::network::Net;
use super::{int, list, map, r, s, Builder};
use crate::core::resource::{Attr, ResourceKind as K};

/// The database user the gateway connects as.
pub const DB_USER: &str = "gateway";
pub const DB_NAME: &str = "gateway";
/// The generated Admin API key of a stack that deploys a gateway configuration.
pub const ADMIN_KEY_SECRET: &str = "secret.admin_key";

pub fn add(b: &mut Builder, net: &Net) {
    let private: Vec<Attr> = net.private_subnets.iter().map(|l| r(l, "id")).collect();
    // Secrets Manager generates the value; the graph only knows that it exists.
    b.add(
        K::Secret,
        "secret.db_password",
        vec![
            ("name", s(b.name("/db-password"))),
            ("generate_length", int(32)),
            ("exclude_punctuation", Attr::Bool(true)),
            ("value", Attr::Secret(None)),
        ],
        &[],
    );
    if b.stack.gateway.config.is_some() {
        // The Admin API's key for the developer portal: generated, never in the stack file; the
        // gateway receives it as GATEWAY_ADMIN_KEY and the configuration refers to it as
        // `{vault://env/gateway-admin-key}`.
        b.add(
            K::Secret,
            ADMIN_KEY_SECRET,
            vec![
                ("name", s(b.name("/admin-api-key"))),
                ("generate_length", int(40)),
                ("exclude_punctuation", Attr::Bool(true)),
                ("value", Attr::Secret(None)),
            ],
            &[],
        );
    }
    aurora(b, &private);
    b.add(
        K::CacheSubnetGroup,
        "cache_subnet_group",
        vec![("name", s(b.name("-cache"))), ("subnet_ids", list(private))],
        &[],
    );
    let replicas = i64::from(b.stack.cache.replicas);
    b.add(
        K::ReplicationGroup,
        "redis",
        vec![
            ("replication_group_id", s(b.name("-redis"))),
            ("engine", s("redis")),
            ("node_type", s(&b.stack.cache.node_type)),
            ("num_cache_clusters", int(replicas + 1)),
            ("automatic_failover", Attr::Bool(replicas > 0)),
            ("subnet_group_name", r("cache_subnet_group", "name")),
            ("security_group_ids", list([r("sg.cache", "id")])),
        ],
        &[],
    );
}

fn aurora(b: &mut Builder, private: &[Attr]) {
    let db = &b.stack.database;
    b.add(
        K::DbSubnetGroup,
        "db_subnet_group",
        vec![
            ("name", s(b.name("-db"))),
            ("subnet_ids", list(private.to_vec())),
        ],
        &[],
    );
    let mut scaling = vec![
        ("min_capacity", Attr::Float(db.min_acu)),
        ("max_capacity", Attr::Float(db.max_acu)),
    ];
    if let Some(seconds) = db.auto_pause_seconds {
        scaling.push(("seconds_until_auto_pause", int(seconds)));
    }
    b.add(
        K::AuroraCluster,
        "aurora.cluster",
        vec![
            ("cluster_identifier", s(b.name("-db"))),
            ("engine", s("aurora-postgresql")),
            ("engine_version", s(&db.engine_version)),
            ("database_name", s(DB_NAME)),
            ("master_username", s(DB_USER)),
            ("master_password", Attr::Secret(Some(secret_ref()))),
            ("serverless_v2_scaling", map(scaling)),
            ("db_subnet_group_name", r("db_subnet_group", "name")),
            ("vpc_security_group_ids", list([r("sg.db", "id")])),
            ("deletion_protection", Attr::Bool(db.deletion_protection)),
            ("backup_retention_period", int(db.backup_retention_days)),
            ("storage_encrypted", Attr::Bool(true)),
            // Destroy keeps the data unless told otherwise: a final snapshot is always named.
            ("final_snapshot_identifier", s(b.name("-db-final"))),
        ],
        &[],
    );
    // CreateDBCluster makes an empty cluster; the writer is its own instance.
    b.add(
        K::AuroraInstance,
        "aurora.writer",
        vec![
            ("identifier", s(b.name("-db-writer"))),
            (
                "cluster_identifier",
                r("aurora.cluster", "cluster_identifier"),
            ),
            ("engine", s("aurora-postgresql")),
            ("instance_class", s("db.serverless")),
        ],
        &[],
    );
}

/// Where the DB password is read at apply time.
pub fn secret_ref() -> crate::core::resource::AttrRef {
    crate::core::resource::AttrRef {
        logical: "secret.db_password".into(),
        attr: "arn".into(),
    }
}
