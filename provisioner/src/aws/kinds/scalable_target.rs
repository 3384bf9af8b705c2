//! ScalableTarget: not implemented yet.

crate::unimplemented_driver!(ScalableTarget);
