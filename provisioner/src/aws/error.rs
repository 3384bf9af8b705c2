//! One error type for every AWS call, classified: retryable (throttling, eventual consistency,
//! transport), not found, or final.

use std::error::Error as StdError;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What went wrong talking to AWS, with the operation named (`ec2:CreateVpc`).
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("{operation}: {code}: {message}")]
    Api {
        operation: &'static str,
        code: String,
        message: String,
    },
    #[error("{operation}: {message}")]
    Transport {
        operation: &'static str,
        message: String,
    },
    /// Our model and a driver disagree (a missing attribute, an unknown shape): a bug.
    #[error("{0}")]
    Model(String),
    /// AWS answered, but not with what the driver needs (e.g. no id in a create response).
    #[error("{operation}: unexpected answer: {message}")]
    Unexpected {
        operation: &'static str,
        message: String,
    },
    #[error("gave up after {seconds} s: {what}")]
    Timeout { seconds: u64, what: String },
    /// The resource reported a failed state (e.g. an ECS deployment rolled back).
    #[error("{0}")]
    Failed(String),
    /// A name or identifier is held by a resource this stack does not own: never adopted, never
    /// overwritten.
    #[error(
        "{what} `{name}` already exists and is not tagged as owned by stack `{stack}`: {hint}"
    )]
    NotOurs {
        what: &'static str,
        name: String,
        stack: String,
        /// What the operator can do about it.
        hint: &'static str,
    },
}

/// Error codes AWS returns for throttling; retried with backoff.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "PriorRequestNotComplete",
    "ProvisionedThroughputExceededException",
];

/// Codes that mean "not yet" right after a related change (eventual consistency); retried.
const NOT_YET: &[&str] = &[
    "DependencyViolation",
    "ResourceInUse",
    "ResourceInUseException",
    "InvalidDBClusterStateFault",
    "InvalidDBInstanceState",
    "InvalidReplicationGroupState",
    "InvalidCacheClusterState",
    "ConcurrentModificationException",
    "OperationAborted",
    "IncorrectState",
    "InvalidGroup.InUse",
    "InvalidIPAddress.InUse",
    "ServiceUnavailable",
    "Unavailable",
];

/// ECS refuses a role IAM has not finished propagating with a code it also uses for permanent
/// validation errors; only the role's case is worth waiting for.
fn is_fresh_role(code: &str, message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    code == "InvalidParameterException"
        && message.contains("role")
        && (message.contains("assume") || message.contains("unable"))
}

impl AwsError {
    /// The AWS error code, when AWS answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn is_throttling(&self) -> bool {
        self.code().is_some_and(|c| THROTTLING.contains(&c))
    }

    /// Worth another try later: throttling, transport trouble, or a state AWS will leave soon.
    pub fn is_retryable(&self) -> bool {
        match self {
            AwsError::Transport { .. } => true,
            AwsError::Api { code, message, .. } => {
                THROTTLING.contains(&code.as_str())
                    || NOT_YET.contains(&code.as_str())
                    || is_fresh_role(code, message)
            }
            _ => false,
        }
    }

    /// The name or identifier asked for is taken (any service's spelling of it).
    pub fn is_already_exists(&self) -> bool {
        self.code()
            .is_some_and(|c| c.contains("AlreadyExists") || c.contains("ResourceExists"))
    }

    /// The thing asked for does not exist (any service's spelling of it).
    pub fn is_not_found(&self) -> bool {
        self.code().is_some_and(|c| {
            c.contains("NotFound") || c.contains("NoSuch") || c == "ResourceNotFoundException"
        })
    }
}

/// An answer that lacks what the driver needs (e.g. no id in a create response).
pub fn missing(operation: &'static str, logical: &str, what: &str) -> AwsError {
    AwsError::Unexpected {
        operation,
        message: format!("{logical}: no {what} in the answer"),
    }
}

/// An attribute the driver cannot change in place although the core asked it to (the core's kind
/// row should list it as forcing a replacement): a bug.
pub fn not_in_place(logical: &str, what: &str, attr: &str) -> AwsError {
    AwsError::Model(format!("{logical}: {what} `{attr}` cannot change in place"))
}

/// A describe's answer where "not found" means `None`.
pub fn found<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Err(error) if error.is_not_found() => Ok(None),
        other => other.map(Some),
    }
}

/// A delete's answer where a resource already gone counts as deleted.
pub fn gone_ok<T>(result: Result<T, AwsError>) -> Result<(), AwsError> {
    found(result).map(drop)
}

/// Converts an SDK error for `operation`: `.send().await.map_err(api("ec2:CreateVpc"))?`.
pub fn api<E, R>(
    operation: &'static str,
) -> impl FnOnce(aws_sdk_ec2::error::SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_ec2::error::SdkError;
    move |error| match &error {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            AwsError::Api {
                operation,
                code: inner.code().unwrap_or("Unknown").to_string(),
                message: inner.message().unwrap_or_default().to_string(),
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            AwsError::Transport {
                operation,
                message: error_chain(&error),
            }
        }
        _ => AwsError::Unexpected {
            operation,
            message: error_chain(&error),
        },
    }
}

/// An error and its sources on one line (the SDK's top-level message alone says little).
fn error_chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
