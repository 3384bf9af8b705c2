//! LogGroup: not implemented yet.

crate::unimplemented_driver!(LogGroup);
