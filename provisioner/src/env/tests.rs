use std::collections::HashMap;

use super::*;

fn env() -> HashMap<String, String> {
    HashMap::from([("TAG".to_string(), "v1.2".to_string())])
}

#[test]
fn interpolates_table() {
    let cases: &[(&str, Result<&str, InterpolationError>)] = &[
        ("plain", Ok("plain")),
        ("img:${env:TAG}", Ok("img:v1.2")),
        ("${env:TAG}-${env:TAG}", Ok("v1.2-v1.2")),
        ("${env:NOPE:-latest}", Ok("latest")),
        ("${env:TAG:-latest}", Ok("v1.2")),
        ("cost $5", Ok("cost $5")),
        ("$${env:TAG}", Ok("${env:TAG}")),
        (
            "${env:NOPE}",
            Err(InterpolationError::Missing("NOPE".into())),
        ),
        ("${env:TAG", Err(InterpolationError::Unterminated)),
        ("${TAG}", Err(InterpolationError::Unsupported("TAG".into()))),
        ("${env:1X}", Err(InterpolationError::BadName("1X".into()))),
    ];
    for (input, want) in cases {
        let got = interpolate(input, &env());
        assert_eq!(
            got.as_deref().map_err(Clone::clone),
            want.clone(),
            "input {input:?}"
        );
    }
}
