//! AuroraInstance: not implemented yet.

crate::unimplemented_driver!(AuroraInstance);
