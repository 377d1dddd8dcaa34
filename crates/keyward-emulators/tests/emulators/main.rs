//! Raw-HTTP tests of every emulator against its contract in shared/CONTRACTS.md.

mod admin;
mod clerk;
mod common;
mod faults;
mod freesewing;
mod propelauth;
