//! Network drivers against LocalStack: create, observe, update in place, delete.

use std::collections::BTreeMap;

use provisioner::aws::{driver, Attrs, Cx, Goal, Progress};
use provisioner::core::resource::{LOGICAL_TAG, STACK_TAG};
use provisioner::core::{Attr, ResourceKind as K};
use stack_tests::{localstack, unique_stack};

fn s(v: &str) -> Attr {
    Attr::Str(v.to_string())
}

fn tags(stack: &str, logical: &str) -> Attr {
    Attr::Map(BTreeMap::from([
        (STACK_TAG.to_string(), s(stack)),
        (LOGICAL_TAG.to_string(), s(logical)),
        ("environment".to_string(), s("test")),
    ]))
}

async fn observed(cx: &Cx, kind: K) -> BTreeMap<String, Attrs> {
    driver(kind)
        .observe(cx, &[])
        .await
        .expect("observe")
        .into_iter()
        .map(|(name, seen)| (name, seen.attrs))
        .collect()
}

#[tokio::test]
async fn vpc_lifecycle() {
    let stack = unique_stack("vpc");
    let cx = Cx::for_endpoint(localstack(), &stack).await;
    let want: Attrs = BTreeMap::from([
        ("cidr_block".to_string(), s("10.77.0.0/16")),
        ("enable_dns_hostnames".to_string(), Attr::Bool(true)),
        ("enable_dns_support".to_string(), Attr::Bool(true)),
        ("tags".to_string(), tags(&stack, "vpc")),
    ]);
    let made = driver(K::Vpc)
        .create(&cx, "vpc", &want)
        .await
        .expect("create");
    assert!(matches!(made.get("id"), Some(Attr::Str(id)) if id.starts_with("vpc-")));
    let ready = driver(K::Vpc).poll(&cx, &made, Goal::Ready).await.unwrap();
    assert!(matches!(ready, Progress::Done(_)), "{ready:?}");

    let seen = observed(&cx, K::Vpc).await;
    let have = &seen["vpc"];
    for key in [
        "cidr_block",
        "enable_dns_hostnames",
        "enable_dns_support",
        "tags",
    ] {
        assert_eq!(have.get(key), want.get(key), "{key}");
    }
    assert_eq!(have.get("id"), made.get("id"));

    let mut off = want.clone();
    off.insert("enable_dns_hostnames".into(), Attr::Bool(false));
    driver(K::Vpc)
        .update(
            &cx,
            "vpc",
            have,
            &off,
            &["enable_dns_hostnames".to_string()],
        )
        .await
        .expect("update");
    let seen = observed(&cx, K::Vpc).await;
    assert_eq!(seen["vpc"]["enable_dns_hostnames"], Attr::Bool(false));

    driver(K::Vpc)
        .delete(&cx, "vpc", have)
        .await
        .expect("delete");
    let gone = driver(K::Vpc).poll(&cx, have, Goal::Gone).await.unwrap();
    assert_eq!(gone, Progress::Done(None));
    assert!(observed(&cx, K::Vpc).await.is_empty());
    // Deleting again is fine: already gone.
    driver(K::Vpc)
        .delete(&cx, "vpc", have)
        .await
        .expect("second delete");
}
