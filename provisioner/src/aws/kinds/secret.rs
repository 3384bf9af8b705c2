//! Secret: not implemented yet.

crate::unimplemented_driver!(Secret);
