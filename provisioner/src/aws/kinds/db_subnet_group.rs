//! DbSubnetGroup: not implemented yet.

crate::unimplemented_driver!(DbSubnetGroup);
