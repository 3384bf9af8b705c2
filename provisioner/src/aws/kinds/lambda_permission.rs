//! LambdaPermission: not implemented yet.

crate::unimplemented_driver!(LambdaPermission);
