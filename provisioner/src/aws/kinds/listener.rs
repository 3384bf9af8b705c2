//! Listener: not implemented yet.

crate::unimplemented_driver!(Listener);
