//! The big-stack execution thread shared by the template engine, the YAML/JSON readers and
//! writers and the renderer: deep recursion (templates, values nested 10,000 levels as Go allows)
//! runs on one thread with a large stack, and every recursive walk checks [`stack_exhausted`]
//! instead of overflowing. Its own module so that `template` and `yaml`, which both use it, do
//! not import each other.

/// The execution thread's stack. Only touched pages are committed.
const STACK_SIZE: usize = 512 << 20;
/// Stop recursing this close to the end of the stack.
const STACK_RESERVE: usize = 4 << 20;

struct AssertSend<T>(T);
// SAFETY: the closure and its result move to a scoped thread and back while the calling thread
// is blocked in `join`; the `Rc`s inside are never touched by two threads at the same time.
unsafe impl<T> Send for AssertSend<T> {}

thread_local! {
    /// Address near the top of the execution thread's stack and that stack's size, for the
    /// recursion guard. Zero on threads this module did not start.
    static STACK: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

fn stack_addr() -> usize {
    let x = 0u8;
    std::ptr::addr_of!(x) as usize
}

/// Runs `f` on a thread with a large stack (or directly when already on one). If no such thread
/// can be started, falls back to a smaller one, then to the current thread.
pub(crate) fn on_big_stack<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    if STACK.with(|t| t.get()).0 != 0 {
        return Ok(f());
    }
    let slot = std::cell::RefCell::new(Some(f));
    for size in [STACK_SIZE, STACK_SIZE / 8] {
        let job = AssertSend(&slot);
        let attempt = std::thread::scope(|s| {
            let handle = std::thread::Builder::new().stack_size(size).spawn_scoped(s, move || {
                let job = job;
                STACK.with(|t| t.set((stack_addr(), size)));
                let f = job.0.borrow_mut().take();
                f.map(|f| AssertSend(f()))
            });
            handle.map(|h| h.join())
        });
        match attempt {
            Ok(Ok(Some(r))) => return Ok(r.0),
            Ok(Ok(None)) => return Err("template: execution thread lost its job".into()),
            Ok(Err(p)) => std::panic::resume_unwind(p),
            Err(_) => continue,
        }
    }
    let f = slot.borrow_mut().take();
    match f {
        Some(f) => Ok(f()),
        None => Err("template: cannot start execution thread".into()),
    }
}

/// Starts `f` on a scoped thread that is itself an execution thread (the large stack, the
/// recursion guard set), so that [`on_big_stack`] inside it runs in place instead of starting a
/// second thread: a plan renders its two sides at once, and each thread costs a stack, a signal
/// stack and a fresh allocator heap. When no such thread can be started, an ordinary scoped
/// thread runs `f` (and [`on_big_stack`] inside it starts its own, with its fallbacks). The
/// handle gives None only if neither thread got `f`, which cannot happen.
pub(crate) fn spawn_scoped_big<'scope, 'env, T, F>(
    s: &'scope std::thread::Scope<'scope, 'env>,
    f: F,
) -> std::thread::ScopedJoinHandle<'scope, Option<T>>
where
    T: Send + 'scope,
    F: FnOnce() -> T + Send + 'scope,
{
    let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(f)));
    let take = |slot: &std::sync::Mutex<Option<F>>| slot.lock().ok().and_then(|mut f| f.take());
    let big = {
        let slot = slot.clone();
        std::thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn_scoped(s, move || {
                STACK.with(|t| t.set((stack_addr(), STACK_SIZE)));
                take(&slot).map(|f| f())
            })
    };
    match big {
        Ok(h) => h,
        Err(_) => s.spawn(move || take(&slot).map(|f| f())),
    }
}

/// True on a thread started by [`with_big_stack`] (where deep recursion is safe).
pub(crate) fn on_big_stack_thread() -> bool {
    STACK.with(|t| t.get()).0 != 0
}

/// True when the current thread is close to the end of its execution stack.
pub(crate) fn stack_exhausted() -> bool {
    let (top, size) = STACK.with(|t| t.get());
    if top == 0 {
        return false;
    }
    let here = stack_addr();
    top.saturating_sub(here) > size.saturating_sub(STACK_RESERVE)
}
