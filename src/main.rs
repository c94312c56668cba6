//! The `chartup` binary: parse arguments, run one command, print, exit. Nothing else lives here.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

// mimalloc instead of glibc's malloc: rendering and planning allocate many small short-lived
// values (template values, YAML nodes, strings), where glibc spent about a quarter of all
// instructions and, on the big-stack render thread, grew its arena one mprotect at a time
// (README, design notes: performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc's options for a short-lived process, set before the first allocation (std's runtime
// allocates before `main`, and that first allocation reserves mimalloc's arena). A 1,000-object
// plan spends about 40 % of its CPU time in the kernel, most of it on first-touched pages
// (benches/PROFILE.md, session 9):
// - `purge_delay` -1: never give freed pages back to the OS. The process exits soon; mimalloc
//   purged at exit (≈ 120–220 `madvise` calls per plan, each unmapping pages the exit would free).
// - `arena_reserve` 64 MiB instead of 1 GiB: the arena's bitmaps, initialised (touched) on the
//   first allocation, are a sixteenth as large; a process that needs more gets further arenas.
// Option numbers: `mi_option_e` in mimalloc v3's mimalloc.h (libmimalloc-sys 0.1.49 has no
// constants for these two).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod alloc_options {
    use std::ffi::{c_char, c_int, c_long, CStr};

    const MI_OPTION_PURGE_DELAY: c_int = 15;
    const MI_OPTION_ARENA_RESERVE: c_int = 23;

    extern "C" {
        fn mi_option_set(option: c_int, value: c_long);
        fn getenv(name: *const c_char) -> *const c_char;
    }

    /// Whether the user set this mimalloc variable (then it wins, as mimalloc's own reading of it
    /// would). libc's `getenv`: `std::env` would allocate before the options are set.
    fn user_set(name: &CStr) -> bool {
        // SAFETY: a NUL-terminated name; the environment is not written before `main`.
        !unsafe { getenv(name.as_ptr()) }.is_null()
    }

    extern "C" fn set() {
        // SAFETY: plain setters of mimalloc's option table, called once before any thread exists.
        unsafe {
            if !user_set(c"MIMALLOC_PURGE_DELAY") {
                mi_option_set(MI_OPTION_PURGE_DELAY, -1);
            }
            if !user_set(c"MIMALLOC_ARENA_RESERVE") {
                // In KiB, as MIMALLOC_ARENA_RESERVE.
                mi_option_set(MI_OPTION_ARENA_RESERVE, 64 * 1024);
            }
        }
    }

    // glibc runs `.init_array` before `main` (and so before Rust's runtime setup allocates).
    #[used]
    #[link_section = ".init_array"]
    static SET: extern "C" fn() = set;
}

fn main() -> ExitCode {
    // helm's boolean flags also take `--flag=false` (pflag); clap's switches do not. The command
    // tree is only built when some argument looks like one (it costs start-up time).
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let args = if chartup::cli::pflag::may_have_bool_values(&args) {
        chartup::cli::pflag::bool_values(args, &chartup::cli::Cli::command())
    } else {
        args
    };
    let cli = chartup::cli::Cli::parse_from(args);
    chartup::cli::main(cli)
}
