//! NatGateway: not implemented yet.

crate::unimplemented_driver!(NatGateway);
