//! DnsRecord: not implemented yet.

crate::unimplemented_driver!(DnsRecord);
