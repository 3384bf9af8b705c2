use super::aurora::support;
use super::fargate::fargate_size_problem;
use super::general::is_region;
use super::network::{parse_cidr, Cidr};
use crate::names::too_long;
use crate::test_support::{assert_problems, edit, problems, Pairs, BASE};

/// Every rule, broken through a stack file: the finding, its path and its exact position.
#[test]
fn rules_table() {
    let long_prefix = "name_prefix = \"abcdefghijklmnopqrstuvwxyzabc\""; // 29 chars
    let cases: &[(Pairs, Pairs)] = &[
        // network
        (&[("az_count = 2", "az_count = 1")], &[("6:12: network.az_count", "at least 2 zones")]),
        (&[("az_count = 2", "az_count = 7")], &[("6:12: network.az_count", "more than 6")]),
        (&[("cidr = \"10.0.0.0/16\"", "cidr = \"10.0.0.1/16\"")], &[("5:8: network.cidr", "did you mean `10.0.0.0/16`")]),
        (&[("cidr = \"10.0.0.0/16\"", "cidr = \"banana\"")], &[("5:8: network.cidr", "not an IPv4 CIDR")]),
        (&[("cidr = \"10.0.0.0/16\"", "cidr = \"10.0.0.0/12\"")], &[("5:8: network.cidr", "between /16 and /28")]),
        (&[("cidr = \"10.0.0.0/16\"", "cidr = \"10.0.0.0/27\"")], &[("5:8: network.cidr", "too small for 4 subnets")]),
        (&[("cidr = \"10.0.0.0/16\"", "cidr = \"10.0.0.0/26\""), ("az_count = 2", "az_count = 3")], &[("5:8: network.cidr", "too small for 6 subnets")]),
        // aurora
        (&[("min_acu = 0.5", "min_acu = 0.25")], &[("11:11: database.min_acu", "steps of 0.5")]),
        (&[("max_acu = 4", "max_acu = 300")], &[("12:11: database.max_acu", "0 to 256")]),
        (&[("min_acu = 0.5", "min_acu = 8")], &[("11:11: database.min_acu", "min 8 is above max 4")]),
        (&[("max_acu = 4", "max_acu = 0.5")], &[("12:11: database.max_acu", "at least 1 ACU")]),
        (&[("engine_version = \"16.6\"", "engine_version = \"16.2\""), ("min_acu = 0.5", "min_acu = 0")], &[("11:11: database.min_acu", "0 ACU (auto-pause) needs")]),
        (&[("engine_version = \"16.6\"", "engine_version = \"12.9\"")], &[("10:18: database.engine_version", "does not run Serverless v2")]),
        (&[("engine_version = \"16.6\"", "engine_version = \"14.2\"")], &[("10:18: database.engine_version", "14.3 or later")]),
        (&[("engine_version = \"16.6\"", "engine_version = \"16\"")], &[("10:18: database.engine_version", "not an Aurora PostgreSQL version")]),
        (&[("engine_version = \"16.6\"", "engine_version = \"15.4\""), ("max_acu = 4", "max_acu = 200")], &[("12:11: database.max_acu", "scales to 128 ACU")]),
        (&[("backup_retention_days = 7", "backup_retention_days = 7\nauto_pause_seconds = 600")], &[("15:22: database.auto_pause_seconds", "only applies with min_acu = 0")]),
        (&[("min_acu = 0.5", "min_acu = 0"), ("backup_retention_days = 7", "backup_retention_days = 7\nauto_pause_seconds = 60")], &[("15:22: database.auto_pause_seconds", "300 to 86400")]),
        (&[("backup_retention_days = 7", "backup_retention_days = 36")], &[("14:25: database.backup_retention_days", "1 to 35 days")]),
        // cache
        (&[("node_type = \"cache.t4g.micro\"", "node_type = \"t4g.micro\"")], &[("17:13: cache.node_type", "not an ElastiCache node type")]),
        (&[("replicas = 1", "replicas = 6")], &[("18:12: cache.replicas", "at most 5")]),
        // fargate and the service
        (&[("cpu = 512", "cpu = 300")], &[("22:7: gateway.cpu", "not a Fargate CPU size")]),
        (&[("memory = 1024", "memory = 5120")], &[("23:10: gateway.memory", "1024-4096 MiB in steps of 1024")]),
        (&[("image = \"gw:1\"", "image = \" \"")], &[("21:9: gateway.image", "image reference")]),
        (&[("desired_count = 2", "desired_count = 5")], &[("25:17: gateway.desired_count", "outside autoscaling bounds 2..=4")]),
        (&[("min = 2", "min = 5")], &[("29:7: gateway.autoscaling.max", "max 4 is below min 5")]),
        (&[("min = 2", "min = 0")], &[("28:7: gateway.autoscaling.min", "at least 1 task")]),
        (&[("cpu_target = 60", "cpu_target = 0")], &[("30:14: gateway.autoscaling.cpu_target", "between 1 and 100")]),
        (&[("KONG_LOG_LEVEL = \"info\"", "\"1BAD\" = \"x\"")], &[("33:10: gateway.environment.1BAD", "not a valid environment variable name")]),
        // names
        (&[("name_prefix = \"wx\"", "name_prefix = \"Weather\"")], &[("2:15: name_prefix", "lowercase letter")]),
        (&[("name_prefix = \"wx\"", "name_prefix = \"wx-\"")], &[("2:15: name_prefix", "must not end with `-`")]),
        (&[("name_prefix = \"wx\"", "name_prefix = \"internal-wx\"")], &[("2:15: name_prefix", "internal-")]),
        (&[("name_prefix = \"wx\"", long_prefix)], &[("2:15: name_prefix", "the NLB name `abcdefghijklmnopqrstuvwxyzabc-nlb` would be 33 characters, AWS allows 32")]),
        // region
        (&[("region = \"us-east-1\"", "region = \"useast1\"")], &[("1:10: region", "not an AWS region")]),
        // dns and fallback
        (&[("interval = 30", "interval = 15")], &[("39:12: dns.interval", "10 or 30 seconds")]),
        (&[("failure_threshold = 3", "failure_threshold = 11")], &[("40:21: dns.failure_threshold", "from 1 to 10")]),
        (&[("failure_threshold = 3", "failure_threshold = 0")], &[("40:21: dns.failure_threshold", "from 1 to 10")]),
        (&[("record = \"api.example.com\"", "record = \"api.other.com\"")], &[("37:10: dns.record", "not inside the zone")]),
        (&[("health_check_path = \"/status\"", "health_check_path = \"status\"")], &[("38:21: dns.health_check_path", "starting with `/`")]),
        (&[("custom_domain = \"api.example.com\"", "custom_domain = \"www.example.com\"")], &[("45:17: fallback.custom_domain", "must equal dns.record `api.example.com`")]),
        (&[("custom_domain = \"api.example.com\"", "")], &[("43:2: fallback.custom_domain", "set it to `api.example.com`")]),
        (&[("[fallback]", ""), ("lambda_arn = \"arn:aws:lambda:us-east-1:123456789012:function:api\"", ""), ("custom_domain = \"api.example.com\"", ""), ("certificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/abc\"", "")], &[("35:2: dns", "failover needs a [fallback]")]),
        (&[("lambda_arn = \"arn:aws:lambda:us-east-1:123456789012:function:api\"", "lambda_arn = \"my-function\"")], &[("44:14: fallback.lambda_arn", "not a Lambda function ARN")]),
        (&[("lambda_arn = \"arn:aws:lambda:us-east-1:123456789012:function:api\"", "url = \"ftp://backend\"")], &[("44:7: fallback.url", "not an http(s) URL")]),
        (&[("lambda_arn = \"arn:aws:lambda:us-east-1:123456789012:function:api\"", "")], &[("43:2: fallback", "lambda_arn or url")]),
        (&[("certificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/abc\"", "certificate_arn = \"arn:aws:acm:eu-west-1:123456789012:certificate/abc\"")], &[("46:19: fallback.certificate_arn", "must be in us-east-1")]),
        (&[("certificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/abc\"", "")], &[("43:2: fallback.certificate_arn", "needs an ACM certificate")]),
    ];
    for (edits, want) in cases {
        assert_problems(&edit(edits), want);
    }
}

/// Rules on sections appended to `BASE` (tags, endpoints).
/// The deploy phase's settings: template values, the local data plane's ports.
#[test]
fn deploy_sections_table() {
    let endpoints = "[endpoints]\nurl = \"http://127.0.0.1:4566\"";
    let ports = "proxy_port = 8000\nadmin_port = 8100\npostgres_port = 5432\nredis_port = 6379";
    let cases: &[(String, Pairs)] = &[
        (
            "[gateway.config]\ntemplate = \"t.yaml\"\n\n[gateway.config.values]\nredis_host = \"x\"\n\"bad name\" = \"y\"".into(),
            &[
                ("52:14: gateway.config.values.redis_host", "filled in by the provisioner"),
                ("53:14: gateway.config.values.bad name", "letters, digits and `_`"),
            ],
        ),
        (
            format!("[local]\n{ports}"),
            &[("48:2: local", "for stacks whose AWS calls go to [endpoints]")],
        ),
        (
            format!("{endpoints}\n\n[local]\nproxy_port = 8000\nadmin_port = 8002\npostgres_port = 80\nredis_port = 8003"),
            &[
                ("53:14: local.admin_port", "overlap local.proxy_port (8000..=8003)"),
                ("54:17: local.postgres_port", "within 1024..=65535"),
                // One problem per field: the first overlap found.
                ("55:14: local.redis_port", "overlap local.proxy_port"),
            ],
        ),
    ];
    for (section, want) in cases {
        assert_problems(&format!("{BASE}\n{section}\n"), want);
    }
    let config = "[gateway.config]\ntemplate = \"t.yaml\"\n\n[gateway.config.values]\nbackend_url = \"http://x\"";
    // With [local] the gateways run on this machine; without it on ECS, also behind
    // [endpoints] (LocalStack with a task runner, or LocalStack Pro).
    for fine in [
        format!("{config}\n\n{endpoints}\n\n[local]\n{ports}"),
        format!("{config}\n\n{endpoints}"),
    ] {
        assert_eq!(problems(&format!("{BASE}\n{fine}\n")), Vec::<String>::new());
    }
}

#[test]
fn appended_sections_table() {
    let cases: &[(&str, Pairs)] = &[
        ("[tags]\n\"aws:x\" = \"y\"", &[("49:11: tags.aws:x", "reserved for AWS")]),
        ("[tags]\n\"provisioner:stack\" = \"y\"", &[("49:23: tags.provisioner:stack", "set by the provisioner")]),
        ("[endpoints]\nurl = \"localhost:4566\"", &[("49:7: endpoints.url", "not an http(s) URL")]),
        (
            "[endpoints]\nurl = \"http://127.0.0.1:4566\"\n\n[endpoints.services]\nbogus = \"http://127.0.0.1:1\"",
            &[("52:9: endpoints.services.bogus", "unknown service `bogus`")],
        ),
    ];
    for (section, want) in cases {
        assert_problems(&format!("{BASE}\n{section}\n"), want);
    }
    let local = "[endpoints]\nurl = \"http://127.0.0.1:4566\"\n\n[endpoints.services]\nrds = \"http://127.0.0.1:4567\"";
    assert_eq!(
        problems(&format!("{BASE}\n{local}\n")),
        Vec::<String>::new()
    );
}

#[test]
fn fargate_sizes_table() {
    let valid = [
        (256, 512),
        (256, 1024),
        (256, 2048),
        (512, 4096),
        (1024, 8192),
        (2048, 16384),
        (4096, 30720),
        (8192, 20480),
        (16384, 122880),
    ];
    for (cpu, memory) in valid {
        assert_eq!(fargate_size_problem(cpu, memory), None, "{cpu}/{memory}");
    }
    let invalid = [
        (128, 512, "gateway.cpu"),
        (256, 1536, "gateway.memory"),
        (256, 4096, "gateway.memory"),
        (512, 512, "gateway.memory"),
        (1024, 1536, "gateway.memory"),
        (2048, 17408, "gateway.memory"),
        (4096, 31744, "gateway.memory"),
        (8192, 18432, "gateway.memory"),
        (16384, 36864, "gateway.memory"),
    ];
    for (cpu, memory, path) in invalid {
        let got = fargate_size_problem(cpu, memory).map(|(p, _)| p);
        assert_eq!(got, Some(path), "{cpu}/{memory}");
    }
}

#[test]
fn aurora_versions_table() {
    let cases = [
        ("16.6", Some((true, 256.0))),
        ("16.2", Some((false, 256.0))),
        ("15.4", Some((false, 128.0))),
        ("15.7", Some((true, 256.0))),
        ("13.6", Some((false, 128.0))),
        ("13.5", None),
        ("11.9", None),
        ("x.y", None),
    ];
    for (version, want) in cases {
        let got = support(version).ok().map(|s| (s.auto_pause, s.max_acu));
        assert_eq!(got, want, "{version}");
    }
}

#[test]
fn name_lengths_table() {
    let kinds =
        |len: usize| -> Vec<&str> { too_long(&"a".repeat(len)).iter().map(|r| r.kind).collect() };
    assert_eq!(kinds(28), Vec::<&str>::new());
    assert_eq!(kinds(29), ["NLB name"]);
    assert_eq!(kinds(30), ["NLB name", "target group name"]);
    assert_eq!(
        kinds(35),
        [
            "NLB name",
            "target group name",
            "ElastiCache replication group id"
        ]
    );
    assert_eq!(kinds(50)[3..], ["IAM role name"]);
    assert_eq!(
        kinds(61)[3..],
        ["RDS cluster identifier", "IAM role name", "IAM role name"]
    );
    assert_eq!(kinds(247).len(), 6);
    assert_eq!(kinds(248)[6..], ["ECS service name"]);
    assert_eq!(kinds(256)[6..], ["ECS cluster name", "ECS service name"]);
}

#[test]
fn cidr_and_region_tables() {
    assert_eq!(
        parse_cidr("10.0.0.0/16"),
        Ok(Cidr {
            address: 0x0a00_0000,
            prefix: 16
        })
    );
    for bad in [
        "10.0.0.0",
        "10.0.0.0/33",
        "300.0.0.0/16",
        "10.0.0.0/x",
        "10.0.1.0/16",
    ] {
        assert!(parse_cidr(bad).is_err(), "{bad}");
    }
    for (region, ok) in [
        ("us-east-1", true),
        ("eu-central-2", true),
        ("us-gov-west-1", true),
        ("ap-southeast-7", true),
        ("useast1", false),
        ("US-EAST-1", false),
        ("us-east", false),
    ] {
        assert_eq!(is_region(region), ok, "{region}");
    }
}
