//! Unit tests for finding PostgreSQL's binaries.

use super::tools::{newest_bin_dir, version_key};

#[test]
fn version_keys_order_numerically() {
    let cases = [
        ("15", Some(vec![15])),
        ("9.6", Some(vec![9, 6])),
        ("main", None),
        ("", None),
    ];
    for (name, want) in cases {
        assert_eq!(version_key(name), want, "{name:?}");
    }
    assert!(version_key("16") > version_key("9.6"));
}

#[test]
fn newest_bin_dir_picks_highest_version_with_a_server() {
    let root = crate::scratch::ScratchDir::new("stack-tests-pgroot").expect("scratch dir");
    for (version, has_server) in [("9.6", true), ("13", true), ("16", false), ("common", true)] {
        let bin = root.path().join(version).join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        if has_server {
            std::fs::write(bin.join("postgres"), "").expect("write");
        }
    }
    assert_eq!(
        newest_bin_dir(root.path()),
        Some(root.path().join("13").join("bin"))
    );
    assert_eq!(newest_bin_dir(&root.path().join("missing")), None);
}
