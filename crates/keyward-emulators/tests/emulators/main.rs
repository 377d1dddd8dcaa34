//! Raw-HTTP tests of every emulator against its contract in docs/backends/ (propelauth.md, clerk.md, freesewing.md).

mod admin;
mod clerk;
mod clerk_frontend;
mod common;
mod faults;
mod freesewing;
mod propelauth;
mod update;
