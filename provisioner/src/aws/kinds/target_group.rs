//! TargetGroup: not implemented yet.

crate::unimplemented_driver!(TargetGroup);
