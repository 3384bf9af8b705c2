//! SSM parameters the provisioner keeps about a stack beside its resources (the lock, the deploy
//! record): read one (absent is `None`) and delete one (absent is fine).

use super::{api, AwsError, Cx};

/// The parameter's value (decrypted when it is a SecureString), or `None` when it does not exist.
pub async fn get(cx: &Cx, name: &str) -> Result<Option<String>, AwsError> {
    let got = cx
        .aws
        .ssm
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(api("ssm:GetParameter"));
    match got {
        Err(e) if is_absent(&e) => Ok(None),
        other => Ok(Some(
            other?.parameter.and_then(|p| p.value).unwrap_or_default(),
        )),
    }
}

/// Deletes the parameter; one that does not exist is already deleted.
pub async fn delete(cx: &Cx, name: &str) -> Result<(), AwsError> {
    let deleted = cx
        .aws
        .ssm
        .delete_parameter()
        .name(name)
        .send()
        .await
        .map_err(api("ssm:DeleteParameter"));
    match deleted {
        Err(e) if is_absent(&e) => Ok(()),
        other => other.map(|_| ()),
    }
}

fn is_absent(error: &AwsError) -> bool {
    error.is_not_found() || error.code() == Some("ParameterNotFound")
}
