use std::collections::HashMap;
use std::path::Path;

use crate::env::ProcessEnv;
use crate::stack::{Architecture, Nat, Stack};
use crate::test_support::{assert_problems, edit, problems, problems_with, Pairs, BASE};
use crate::{load_stack, parse_stack, LoadError};

#[test]
fn base_is_valid() {
    assert_eq!(problems(BASE), Vec::<String>::new());
    let stack = parse_stack("t.toml", BASE, &HashMap::new()).unwrap();
    assert_eq!(stack.network.nat, Nat::Single);
    assert_eq!(stack.gateway.architecture, Architecture::Arm64);
    assert_eq!(stack.database.min_acu, 0.5);
    assert_eq!(stack.endpoints, None);
}

/// Decoding problems: each with its exact position, and no rule piling on afterwards.
#[test]
fn decoding_problems_table() {
    let cases: &[(Pairs, Pairs)] = &[
        (
            &[("cpu = 512", "cpus = 512")],
            &[
                ("20:2: gateway.cpu", "missing required key `cpu`"),
                (
                    "22:1: gateway.cpus",
                    "unknown key `cpus`; did you mean `cpu`?",
                ),
            ],
        ),
        (
            &[("cpu = 512", "cpu = \"512\"")],
            &[("22:7: gateway.cpu", "expected an integer, found a string")],
        ),
        (
            &[("desired_count = 2", "desired_count = -1")],
            &[(
                "25:17: gateway.desired_count",
                "-1 is out of range: expected 0 to 4294967295",
            )],
        ),
        (
            &[("nat = \"single\"", "nat = \"double\"")],
            &[(
                "7:7: network.nat",
                "unknown value `double`: expected one of `none`, `single`",
            )],
        ),
        (
            &[(
                "deletion_protection = true",
                "deletion_protection = \"yes\"",
            )],
            &[("13:23: database.deletion_protection", "expected a boolean")],
        ),
        (
            &[("min_acu = 0.5", "min_acu = \"half\"")],
            &[(
                "11:11: database.min_acu",
                "expected a number, found a string",
            )],
        ),
        (
            &[("image = \"gw:1\"", "image = 1979-05-27")],
            &[("21:9: gateway.image", "expected a string, found a datetime")],
        ),
        (
            &[("", "colour = \"red\"")],
            &[(
                "3:1: colour",
                "unknown key `colour`; expected one of `region`",
            )],
        ),
        (
            &[
                ("[cache]", "# no cache"),
                ("node_type = \"cache.t4g.micro\"", ""),
                ("replicas = 1", ""),
            ],
            &[("1:1: cache", "missing required table `[cache]`")],
        ),
        (
            &[("[gateway.autoscaling]", "[gateway.scaling]")],
            &[
                (
                    "20:2: gateway.autoscaling",
                    "missing required table `[gateway.autoscaling]`",
                ),
                ("27:10: gateway.scaling", "unknown key `scaling`"),
            ],
        ),
    ];
    for (edits, want) in cases {
        assert_problems(&edit(edits), want);
    }
}

#[test]
fn secrets_are_refused_wherever_they_appear() {
    let text = edit(&[
        (
            "deletion_protection = true",
            "deletion_protection = true\npassword = \"hunter2\"",
        ),
        (
            "KONG_LOG_LEVEL = \"info\"",
            "KONG_PG_PASSWORD = \"${env:PG_PASSWORD}\"",
        ),
    ]);
    let got = problems(&text);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got[0].starts_with("14:1: database.password: `password` looks like a secret"));
    assert!(got[0].contains("Secrets Manager"));
    assert!(got[1].starts_with("34:1: gateway.environment.KONG_PG_PASSWORD: "));
}

#[test]
fn secret_references_are_accepted_and_checked() {
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:pg-AbC";
    let good = format!("{BASE}\n[gateway.secrets]\nKONG_PG_PASSWORD = \"{arn}\"\n");
    assert_eq!(problems(&good), Vec::<String>::new());
    let bad = format!("{BASE}\n[gateway.secrets]\nKONG_PG_PASSWORD = \"hunter2\"\n");
    assert_problems(
        &bad,
        &[("49:20: gateway.secrets.KONG_PG_PASSWORD", "Secrets Manager")],
    );
}

#[test]
fn env_interpolation() {
    let text = edit(&[("image = \"gw:1\"", "image = \"gw:${env:GW_TAG}\"")]);
    assert_problems(
        &text,
        &[(
            "21:9: gateway.image",
            "environment variable `GW_TAG` is not set",
        )],
    );
    let env = HashMap::from([("GW_TAG".to_string(), "2.0".to_string())]);
    assert_eq!(problems_with(&text, &env), Vec::<String>::new());
    let stack = parse_stack("t.toml", &text, &env).unwrap();
    assert_eq!(stack.gateway.image, "gw:2.0");
}

#[test]
fn syntax_errors_stop_before_decoding() {
    let text = edit(&[
        ("name_prefix = \"wx\"", "name_prefix = \"wx"),
        ("cpu = 512", "cpu = ["),
    ]);
    let got = problems(&text);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].starts_with("2:18: invalid TOML: "), "{got:#?}");
}

#[test]
fn every_problem_at_once_sorted_by_line() {
    let text = edit(&[
        ("interval = 30", "interval = 15"),
        ("region = \"us-east-1\"", "region = 5"),
        ("cpu = 512", "cpu = 300"),
        ("replicas = 1", "replicas = 9"),
    ]);
    let got = problems(&text);
    let lines: Vec<&str> = got
        .iter()
        .map(|p| p.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(lines, ["1", "18", "22", "39"], "{got:#?}");
}

#[test]
fn error_display_names_the_file() {
    let text = edit(&[("cpu = 512", "cpu = 300")]);
    let err = parse_stack("stacks/prod.toml", &text, &HashMap::new()).unwrap_err();
    assert_eq!(err.lines().len(), 1);
    assert!(err.lines()[0].starts_with("stacks/prod.toml:22:7: gateway.cpu: 300 is not"));
    assert!(err.to_string().starts_with("stacks/prod.toml: 1 problem\n"));
}

/// The shipped stacks pass, and plain serde (deny_unknown_fields) reads them the same way.
#[test]
fn shipped_stacks_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for name in ["prod", "staging", "local"] {
        let stack = match load_stack(&root, name) {
            Ok(stack) => stack,
            Err(err) => panic!("{name}: {err}"),
        };
        let text = std::fs::read_to_string(root.join(format!("stacks/{name}.toml"))).unwrap();
        if !text.contains("${env:") {
            let plain: Stack = toml::from_str(&text).unwrap();
            assert_eq!(plain, stack, "{name}");
        }
    }
    let prod = load_stack(&root, "prod").unwrap();
    assert_eq!(
        (
            prod.gateway.cpu,
            prod.gateway.memory,
            prod.gateway.desired_count
        ),
        (512, 1024, 2)
    );
    assert_eq!((prod.database.min_acu, prod.database.max_acu), (0.5, 4.0));
    let local = load_stack(&root, "local").unwrap();
    assert_eq!(local.region, "us-east-1");
    assert!(
        local
            .endpoints
            .unwrap()
            .url
            .starts_with("http://127.0.0.1:4566")
            || std::env::var("LOCALSTACK_URL").is_ok()
    );
}

#[test]
fn stack_names_cannot_escape_stacks_dir() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    assert!(matches!(
        load_stack(&root, "../Cargo"),
        Err(LoadError::BadName(_))
    ));
    assert!(matches!(
        load_stack(&root, "nope"),
        Err(LoadError::Read { .. })
    ));
    let _ = ProcessEnv;
}

/// serde alone stops at the first unknown key: what the collecting decoder improves on.
#[test]
fn serde_model_denies_unknown_fields() {
    let text = edit(&[("cpu = 512", "cpu = 512\ncpus = 1")]);
    let err = toml::from_str::<Stack>(&text).unwrap_err();
    assert!(err.message().contains("unknown field `cpus`"), "{err}");
}
