use super::{escape, normalize};

#[test]
fn normalizes_like_kong() {
    let cases = [
        ("/", "/"),
        ("", ""),
        ("/api/x", "/api/x"),
        ("/api/", "/api/"),
        ("/%61pi/x", "/api/x"),
        ("/%7Euser", "/~user"),
        ("/a%2fb", "/a%2Fb"),
        ("/a%3Fb%23c", "/a%3Fb%23c"),
        ("/caf%C3%A9", "/café"),
        ("/bad%FF", "/bad%FF"),
        ("/100%", "/100%"),
        ("/x%zz", "/x%zz"),
        ("/api/../api/x", "/api/x"),
        ("/api/./x", "/api/x"),
        ("/%2e%2e/etc", "/etc"),
        ("/../../a", "/a"),
        ("/api/.", "/api/"),
        ("/api/..", "/"),
        ("/a/b/..", "/a/"),
        ("//api///x", "/api/x"),
        ("/a/.../b", "/a/.../b"),
        ("/a.b/c", "/a.b/c"),
    ];
    for (raw, expected) in cases {
        assert_eq!(normalize(raw), expected, "normalize({raw:?})");
    }
}

#[test]
fn escapes_what_cannot_travel_raw() {
    let cases = [
        ("/api/x", "/api/x"),
        ("/a b", "/a%20b"),
        ("/café", "/caf%C3%A9"),
        ("/a%2Fb", "/a%2Fb"),
        ("/a\"<>", "/a%22%3C%3E"),
        ("/~user/(x)", "/~user/(x)"),
    ];
    for (path, expected) in cases {
        assert_eq!(escape(path), expected, "escape({path:?})");
    }
}
