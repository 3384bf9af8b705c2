//! Subnet groups, RDS's and ElastiCache's alike: one driver over each service's four calls. The
//! group names the private subnets a database or cache places its nodes in.

use async_trait::async_trait;

use super::data_common::{differing, may_be_ours};
use super::tagging::{self, claim, not_ours, owned, TagApi};
use super::Driver;
use crate::aws::attrs::{s, strs, Attrs, AttrsExt};
use crate::aws::{gone_ok, missing, not_in_place, AwsError, Cx};
use crate::core::{Observed, Resource, ResourceKind};

/// A subnet group as either service describes it.
pub struct Group {
    pub name: String,
    pub arn: String,
    pub subnets: Vec<String>,
}

/// One service's subnet group calls.
#[async_trait]
pub trait GroupApi: Sync + Send {
    /// The kind, and how errors name it ("DB subnet group").
    const KIND: ResourceKind;
    const WHAT: &'static str;
    /// The create operation, named in an error when its answer lacks the group.
    const CREATE: &'static str;
    /// The service's tag calls.
    fn tags(&self) -> &'static dyn TagApi;

    /// Every group of the account and region, or the one named `name`.
    async fn list(&self, cx: &Cx, name: Option<&str>) -> Result<Vec<Group>, AwsError>;
    async fn create(&self, cx: &Cx, req: Request, want: &Attrs) -> Result<Option<Group>, AwsError>;
    async fn modify(&self, cx: &Cx, name: &str, subnets: Vec<String>) -> Result<(), AwsError>;
    async fn delete(&self, cx: &Cx, name: &str) -> Result<(), AwsError>;
}

/// What a create sends, built from desired attributes by [`request`].
#[derive(Debug, PartialEq)]
pub struct Request {
    pub name: String,
    pub description: String,
    pub subnet_ids: Vec<String>,
}

/// The create request for `want`; ownership is recorded in tags, the description only helps a
/// person in the console.
pub fn request(stack: &str, logical: &str, want: &Attrs) -> Result<Request, AwsError> {
    Ok(Request {
        name: want.str("name")?.to_string(),
        description: format!("{logical} of stack {stack} (managed by provision)"),
        subnet_ids: want.strs("subnet_ids")?,
    })
}

/// The driver of a subnet group kind, over its service's calls.
pub struct SubnetGroup<A>(pub A);

#[async_trait]
impl<A: GroupApi> Driver for SubnetGroup<A> {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let mut out = Vec::new();
        for group in self.0.list(cx, None).await? {
            if !may_be_ours(&cx.stack, &group.name) {
                continue;
            }
            if let Some((logical, attrs)) = owned_group(cx, self.0.tags(), &group).await? {
                out.push((
                    logical,
                    Observed {
                        kind: A::KIND,
                        attrs,
                    },
                ));
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let req = request(&cx.stack, logical, want)?;
        let name = req.name.clone();
        let group = match self.0.create(cx, req, want).await {
            Ok(made) => made.ok_or_else(|| missing(A::CREATE, logical, "subnet group"))?,
            Err(error) if error.is_already_exists() => {
                let have = self.adopt(cx, logical, &name).await?;
                let changed = differing(&have, want, &["subnet_ids", "tags"]);
                return self.update(cx, logical, &have, want, &changed).await;
            }
            Err(error) => return Err(error),
        };
        let mut have = want.clone();
        have.insert("arn".into(), s(group.arn));
        have.insert("id".into(), s(name));
        Ok(have)
    }

    async fn update(
        &self,
        cx: &Cx,
        logical: &str,
        have: &Attrs,
        want: &Attrs,
        changed: &[String],
    ) -> Result<Attrs, AwsError> {
        let name = have.str("name")?;
        for key in changed {
            match key.as_str() {
                "subnet_ids" => self.0.modify(cx, name, want.strs(key)?).await?,
                "tags" => tagging::retag(self.0.tags(), cx, have.str("arn")?, have, want).await?,
                other => return Err(not_in_place(logical, A::WHAT, other)),
            }
        }
        let mut out = want.clone();
        for key in ["arn", "id"] {
            if let Some(value) = have.get(key) {
                out.insert(key.into(), value.clone());
            }
        }
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        gone_ok(self.0.delete(cx, have.str("name")?).await)
    }
}

impl<A: GroupApi> SubnetGroup<A> {
    /// The name is taken: ours (a create whose answer was lost) is adopted, anyone else's refused.
    async fn adopt(&self, cx: &Cx, logical: &str, name: &str) -> Result<Attrs, AwsError> {
        for group in self.0.list(cx, Some(name)).await? {
            let pairs = self.0.tags().list(cx, &group.arn).await?;
            claim(cx, A::WHAT, name, logical, &pairs)?;
            if let Some((_, attrs)) = group_attrs(cx, &group, &pairs) {
                return Ok(attrs);
            }
        }
        Err(not_ours(cx, A::WHAT, name))
    }
}

/// The group's observed attributes when its tags say this stack owns it.
async fn owned_group(
    cx: &Cx,
    tags: &dyn TagApi,
    group: &Group,
) -> Result<Option<(String, Attrs)>, AwsError> {
    if group.arn.is_empty() {
        return Ok(None);
    }
    let pairs = tags.list(cx, &group.arn).await?;
    Ok(group_attrs(cx, group, &pairs))
}

fn group_attrs(cx: &Cx, group: &Group, pairs: &[(String, String)]) -> Option<(String, Attrs)> {
    let (logical, tags) = owned(&cx.stack, pairs)?;
    let mut subnets: Vec<&str> = group.subnets.iter().map(String::as_str).collect();
    subnets.sort_unstable();
    let attrs = Attrs::from([
        ("name".to_string(), s(&group.name)),
        ("id".to_string(), s(&group.name)),
        ("arn".to_string(), s(&group.arn)),
        ("subnet_ids".to_string(), strs(subnets)),
        ("tags".to_string(), tags),
    ]);
    Some((logical, attrs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::resource::Attr;

    #[test]
    fn create_request_names_the_stack_in_its_description() {
        let want = Attrs::from([
            ("name".to_string(), s("demo-db")),
            ("subnet_ids".to_string(), strs(["subnet-b", "subnet-a"])),
            ("tags".to_string(), Attr::Map(Default::default())),
        ]);
        assert_eq!(
            request("demo", "db.subnets", &want).unwrap(),
            Request {
                name: "demo-db".into(),
                description: "db.subnets of stack demo (managed by provision)".into(),
                subnet_ids: vec!["subnet-b".into(), "subnet-a".into()],
            }
        );
    }
}
