//! RouteTable: not implemented yet.

crate::unimplemented_driver!(RouteTable);
