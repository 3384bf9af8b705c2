//! Subnet: not implemented yet.

crate::unimplemented_driver!(Subnet);
