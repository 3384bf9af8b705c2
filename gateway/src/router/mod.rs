//! Route matching with Kong's precedence rules (to be written).
