//! IamRole: not implemented yet.

crate::unimplemented_driver!(IamRole);
