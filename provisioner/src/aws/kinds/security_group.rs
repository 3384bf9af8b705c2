//! SecurityGroup: not implemented yet.

crate::unimplemented_driver!(SecurityGroup);
