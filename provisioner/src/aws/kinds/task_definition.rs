//! TaskDefinition: not implemented yet.

crate::unimplemented_driver!(TaskDefinition);
