//! ScalingPolicy: not implemented yet.

crate::unimplemented_driver!(ScalingPolicy);
