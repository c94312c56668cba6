//! Links the `chartup` executable position-dependent (`-no-pie`) on Linux with glibc.
//!
//! A position-independent executable is relocated by the dynamic loader at every start: ≈ 18,000
//! relative relocations, each a write into `.data.rel.ro`, so ≈ 85 pages copied on write before
//! `main` — ≈ 0.4 ms of a 7 ms one-object plan (benches/PROFILE.md, session 9). Linked at a fixed
//! address, the linker resolves them once. Only the executable: the code stays position
//! independent (libraries, proc macros and the test binaries are unchanged), and the link flag is
//! the C compiler driver's, which both gcc and clang accept. The price: the executable itself is
//! not placed at a random address (its heap, stacks and libraries still are).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
