//! SecurityGroupRule: not implemented yet.

crate::unimplemented_driver!(SecurityGroupRule);
