//! Unit tests for /etc/passwd parsing.

use super::*;

#[test]
fn parses_passwd_lines() {
    let passwd =
        "root:x:0:0:root:/root:/bin/bash\npostgres:x:101:104::/var/lib/postgresql:/bin/bash\n";
    let cases = [
        ("root", Some((0, 0))),
        ("postgres", Some((101, 104))),
        ("post", None),
        ("nobody", None),
    ];
    for (name, want) in cases {
        let got = parse_passwd(passwd, name).map(|u| (u.uid, u.gid));
        assert_eq!(got, want, "user {name}");
    }
}
