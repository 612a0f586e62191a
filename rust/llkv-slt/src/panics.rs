//! Catching engine panics per record, without the default hook's stderr
//! output for them.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once per process) a panic hook that stays silent while the
/// panicking thread is inside [`catch`] and defers to the previous hook
/// otherwise.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(Cell::get) {
                let location = info.location().map(|l| l.to_string());
                LOCATION.with(|slot| *slot.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into `Err("panic: MESSAGE at FILE:LINE")`.
///
/// ```
/// let caught = llkv_slt::panics::catch(|| -> i32 { panic!("boom") });
/// assert!(caught.unwrap_err().starts_with("panic: boom"));
/// ```
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    let was_capturing = CAPTURING.with(|c| c.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CAPTURING.with(|c| c.set(was_capturing));
    result.map_err(|payload| {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "(non-string payload)".to_owned()
        };
        match LOCATION.with(|slot| slot.borrow_mut().take()) {
            Some(location) => format!("panic: {message} at {location}"),
            None => format!("panic: {message}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catches_and_describes_panics() {
        let err = catch(|| -> u8 { panic!("index {} out of range", 3) }).unwrap_err();
        assert!(err.starts_with("panic: index 3 out of range at "), "{err}");
        assert!(err.contains("panics.rs"), "{err}");
        assert_eq!(catch(|| 7), Ok(7));
    }
}
