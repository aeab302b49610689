//! The Windows console for the client's interactive sessions (`hvsock shell`,
//! `hvsock exec -t`): raw mode, the window size, resizes and console input.
//!
//! The remote side is a Linux PTY, so the console is put in the mode a terminal
//! emulator would be: keys go out as typed (no line editing, no echo, Ctrl-C as the
//! byte 0x03 rather than a console event) and as VT sequences (arrows, function keys:
//! `ENABLE_VIRTUAL_TERMINAL_INPUT`), and the remote's escape sequences are interpreted
//! (`ENABLE_VIRTUAL_TERMINAL_PROCESSING`).

use crate::proto::WindowSize;
use std::io;
use std::os::windows::io::{AsRawHandle, BorrowedHandle};
use std::time::Duration;
use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::System::Console::{
    CONSOLE_MODE, CONSOLE_SCREEN_BUFFER_INFO, ENABLE_ECHO_INPUT, ENABLE_LINE_INPUT,
    ENABLE_PROCESSED_INPUT, ENABLE_VIRTUAL_TERMINAL_INPUT, ENABLE_VIRTUAL_TERMINAL_PROCESSING,
    GetConsoleMode, GetConsoleScreenBufferInfo, GetStdHandle, ReadConsoleW, STD_HANDLE,
    STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, SetConsoleMode,
};

/// How often [`Resizes`] looks at the console's size.
///
/// A console has no SIGWINCH: a resize is only reported as a `WINDOW_BUFFER_SIZE_EVENT`
/// record in the *input* queue, and only with `ENABLE_WINDOW_INPUT`, so seeing it would
/// mean reading the input with `ReadConsoleInputW` and re-encoding every key ourselves
/// (and Windows Terminal sends it for buffer, not window, changes). Polling the window
/// rectangle four times a second is cheap (one call), independent of how the input is
/// read, and quick enough that a resized shell redraws before the user notices.
pub const RESIZE_POLL: Duration = Duration::from_millis(250);

/// A standard handle of the process (not owned: never closed), or `None` if there is
/// none.
fn std_handle(which: STD_HANDLE) -> Option<HANDLE> {
    // SAFETY: GetStdHandle takes a plain constant and returns a handle the process
    // owns (or null / INVALID_HANDLE_VALUE), which is not closed here.
    let h = unsafe { GetStdHandle(which) };
    (!h.is_null() && h != INVALID_HANDLE_VALUE).then_some(h)
}

/// The console mode of `h`, or `None` if it is not a console.
fn console_mode(h: HANDLE) -> Option<CONSOLE_MODE> {
    let mut mode: CONSOLE_MODE = 0;
    // SAFETY: `h` is a standard handle of this process; `mode` is a valid out pointer.
    (unsafe { GetConsoleMode(h, &mut mode) } != 0).then_some(mode)
}

fn set_console_mode(h: HANDLE, mode: CONSOLE_MODE) -> io::Result<()> {
    // SAFETY: `h` is a standard handle of this process; plain integer argument.
    if unsafe { SetConsoleMode(h, mode) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The console's window size: the visible window rectangle of the screen buffer on
/// `which` (not the buffer, which is usually thousands of lines high).
fn window_of(which: STD_HANDLE) -> Option<WindowSize> {
    window_of_handle(std_handle(which)?)
}

/// A console screen buffer's window size (the Windows twin of the Unix
/// `window_size(fd)`), or `None` if `h` is not a console: e.g.
/// `window_size(std::io::stderr().as_handle())`.
pub fn window_size(h: BorrowedHandle<'_>) -> Option<WindowSize> {
    window_of_handle(h.as_raw_handle() as HANDLE)
}

fn window_of_handle(h: HANDLE) -> Option<WindowSize> {
    let mut info: CONSOLE_SCREEN_BUFFER_INFO = CONSOLE_SCREEN_BUFFER_INFO::default();
    // SAFETY: `h` is a handle the caller holds open for the call (a standard handle or
    // a borrowed one); `info` is a valid out pointer.
    if unsafe { GetConsoleScreenBufferInfo(h, &mut info) } == 0 {
        return None;
    }
    let w = info.srWindow;
    let rows = (i32::from(w.Bottom) - i32::from(w.Top) + 1).clamp(0, i32::from(u16::MAX));
    let cols = (i32::from(w.Right) - i32::from(w.Left) + 1).clamp(0, i32::from(u16::MAX));
    Some(WindowSize {
        rows: rows as u16,
        cols: cols as u16,
    })
}

/// The console's window size (stdout's screen buffer); `None` without a console (or
/// one that reports 0 rows or columns).
pub fn terminal_size() -> Option<WindowSize> {
    window_of(STD_OUTPUT_HANDLE)
        .or_else(|| window_of(STD_INPUT_HANDLE))
        .filter(|w| w.rows > 0 && w.cols > 0)
}

/// The console in raw mode; the previous modes come back on drop.
#[derive(Debug)]
pub struct RawMode {
    /// (handle as an integer, so the guard is `Send`; mode before).
    input: (usize, CONSOLE_MODE),
    /// The output's handle and mode before, if stdout is a console.
    output: Option<(usize, CONSOLE_MODE)>,
}

/// The input mode of raw mode: no line editing, no echo, Ctrl-C as input; VT input.
pub fn raw_input_mode(mode: CONSOLE_MODE) -> CONSOLE_MODE {
    (mode & !(ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT | ENABLE_PROCESSED_INPUT))
        | ENABLE_VIRTUAL_TERMINAL_INPUT
}

/// Puts the console on stdin in raw mode (see [`raw_input_mode`]) and, if stdout is a
/// console, turns on its VT processing; both are restored when the guard is dropped.
pub fn raw_stdin() -> io::Result<RawMode> {
    let not_console = || io::Error::other("stdin is not a console");
    let input = std_handle(STD_INPUT_HANDLE).ok_or_else(not_console)?;
    let in_mode = console_mode(input).ok_or_else(not_console)?;
    let output = std_handle(STD_OUTPUT_HANDLE).and_then(|h| console_mode(h).map(|m| (h, m)));
    if let Some((h, m)) = output {
        set_console_mode(h, m | ENABLE_VIRTUAL_TERMINAL_PROCESSING)?;
    }
    if let Err(e) = set_console_mode(input, raw_input_mode(in_mode)) {
        if let Some((h, m)) = output {
            let _ = set_console_mode(h, m);
        }
        return Err(e);
    }
    Ok(RawMode {
        input: (input as usize, in_mode),
        output: output.map(|(h, m)| (h as usize, m)),
    })
}

impl RawMode {
    /// Whether the console on stdin is in raw mode now (see [`raw_input_mode`]).
    pub fn is_active(&self) -> bool {
        console_mode(self.input.0 as HANDLE).is_some_and(|m| {
            m & (ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT | ENABLE_PROCESSED_INPUT) == 0
        })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = set_console_mode(self.input.0 as HANDLE, self.input.1);
        if let Some((h, m)) = self.output {
            let _ = set_console_mode(h as HANDLE, m);
        }
    }
}

/// Tells when the console may have changed size: a tick every [`RESIZE_POLL`] (the
/// caller compares [`terminal_size`] with the last one it sent).
#[derive(Debug)]
pub struct Resizes(tokio::time::Interval);

impl Resizes {
    /// Starts the ticks.
    pub fn new() -> io::Result<Resizes> {
        let mut i = tokio::time::interval(RESIZE_POLL);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Ok(Resizes(i))
    }

    /// Waits for the next tick (never `None`: a console can always be resized).
    pub async fn changed(&mut self) -> Option<()> {
        self.0.tick().await;
        Some(())
    }
}

/// The console's input as UTF-8, read with `ReadConsoleW` exactly as typed.
///
/// Not `std::io::stdin()`: on a console it treats Ctrl-Z (0x1A) as end of input and
/// drops it, but in raw mode Ctrl-Z is a key for the remote shell (suspend), and an end
/// of input would send the remote terminal a Ctrl-D.
#[derive(Debug, Default)]
pub struct ConsoleInput {
    /// A high surrogate that ended the last read (its pair comes in the next).
    high: Option<u16>,
}

impl ConsoleInput {
    /// Whether stdin is a console (else read it with `std::io::stdin()`).
    pub fn available() -> bool {
        std_handle(STD_INPUT_HANDLE)
            .and_then(console_mode)
            .is_some()
    }

    /// Blocks until there is input; appends it to `out` as UTF-8 and returns how many
    /// bytes that was (0 only if the console has no input handle).
    pub fn read(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        let Some(h) = std_handle(STD_INPUT_HANDLE) else {
            return Ok(0);
        };
        let before = out.len();
        // A read of a lone high surrogate yields nothing yet: read again.
        while out.len() == before {
            let mut buf = [0u16; 1024];
            let mut n: u32 = 0;
            // SAFETY: `buf` is valid for `buf.len()` u16s, `n` is a valid out pointer,
            // and a null input control is allowed.
            let ok = unsafe {
                ReadConsoleW(
                    h,
                    buf.as_mut_ptr().cast(),
                    buf.len() as u32,
                    &mut n,
                    std::ptr::null(),
                )
            };
            if ok == 0 {
                return Err(io::Error::last_os_error());
            }
            let mut units: Vec<u16> = self.high.take().into_iter().collect();
            units.extend_from_slice(&buf[..n as usize]);
            if let Some(&last) = units.last()
                && (0xD800..=0xDBFF).contains(&last)
            {
                self.high = units.pop();
            }
            for c in char::decode_utf16(units) {
                let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
        Ok(out.len() - before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_input_mode_drops_line_echo_and_signals_and_adds_vt() {
        let cooked = ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT | ENABLE_PROCESSED_INPUT | 0x80;
        let raw = raw_input_mode(cooked);
        assert_eq!(
            raw & (ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT | ENABLE_PROCESSED_INPUT),
            0
        );
        assert_ne!(raw & ENABLE_VIRTUAL_TERMINAL_INPUT, 0);
        assert_ne!(raw & 0x80, 0, "other flags are kept");
    }
}
