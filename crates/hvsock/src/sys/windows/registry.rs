//! A small safe wrapper over the Win32 registry (advapi32 through windows-sys): open or
//! create a key, list its subkeys, read and write `REG_SZ` and `REG_DWORD` values,
//! delete values and whole keys. The service registry's Windows backend
//! (`config::registry::windows`) is its only user.
//!
//! Errors are `io::Error`s built from the Win32 code with an explicit kind
//! (`ERROR_ACCESS_DENIED` is `PermissionDenied`, `ERROR_FILE_NOT_FOUND` is `NotFound`,
//! ...) and a text of our own that names the operation, the key and the code: the text
//! never comes from `FormatMessage`, which has none for some codes (under wine, and for
//! codes of other modules).

use std::io;
use windows_sys::Win32::Foundation::{
    ERROR_ACCESS_DENIED, ERROR_FILE_NOT_FOUND, ERROR_INVALID_PARAMETER, ERROR_MORE_DATA,
    ERROR_NO_MORE_ITEMS, ERROR_PATH_NOT_FOUND, ERROR_SUCCESS, WIN32_ERROR,
};
use windows_sys::Win32::System::Registry::{
    HKEY, HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, KEY_READ, KEY_WOW64_64KEY, KEY_WRITE,
    REG_CREATED_NEW_KEY, REG_DWORD, REG_EXPAND_SZ, REG_OPTION_NON_VOLATILE, REG_SZ, REG_VALUE_TYPE,
    RegCloseKey, RegCreateKeyExW, RegDeleteTreeW, RegDeleteValueW, RegEnumKeyExW, RegOpenKeyExW,
    RegQueryValueExW, RegSetValueExW,
};

/// `DELETE` (winnt.h): needed, besides `KEY_WRITE`, to delete a key's subkeys.
const DELETE: u32 = 0x0001_0000;
/// `ERROR_KEY_DELETED`: the key was deleted by someone else while open.
const ERROR_KEY_DELETED: WIN32_ERROR = 1018;
/// `ERROR_UNSUPPORTED_TYPE`: a value has another type than the one asked for.
const ERROR_UNSUPPORTED_TYPE: WIN32_ERROR = 1630;
/// The longest key name the registry allows, in UTF-16 units (without the NUL).
const MAX_KEY_NAME: usize = 255;

/// A predefined root key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hive {
    /// `HKEY_LOCAL_MACHINE`.
    LocalMachine,
    /// `HKEY_CURRENT_USER`.
    CurrentUser,
}

impl Hive {
    fn hkey(self) -> HKEY {
        match self {
            Hive::LocalMachine => HKEY_LOCAL_MACHINE,
            Hive::CurrentUser => HKEY_CURRENT_USER,
        }
    }

    /// The hive's full name, as regedit and `.reg` files spell it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Hive::LocalMachine => "HKEY_LOCAL_MACHINE",
            Hive::CurrentUser => "HKEY_CURRENT_USER",
        }
    }
}

/// What a key is opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// `KEY_READ`.
    Read,
    /// `KEY_READ | KEY_WRITE | DELETE` (deleting subkeys needs `DELETE`).
    ReadWrite,
}

impl Access {
    fn sam(self) -> u32 {
        // KEY_WOW64_64KEY: a 32-bit build sees the same (64-bit) view as Hyper-V.
        KEY_WOW64_64KEY
            | match self {
                Access::Read => KEY_READ,
                Access::ReadWrite => KEY_READ | KEY_WRITE | DELETE,
            }
    }
}

/// The short name of the Win32 codes the registry returns, for messages.
fn code_name(code: WIN32_ERROR) -> &'static str {
    match code {
        ERROR_FILE_NOT_FOUND => "ERROR_FILE_NOT_FOUND",
        ERROR_PATH_NOT_FOUND => "ERROR_PATH_NOT_FOUND",
        ERROR_ACCESS_DENIED => "ERROR_ACCESS_DENIED",
        ERROR_INVALID_PARAMETER => "ERROR_INVALID_PARAMETER",
        ERROR_MORE_DATA => "ERROR_MORE_DATA",
        ERROR_KEY_DELETED => "ERROR_KEY_DELETED",
        ERROR_UNSUPPORTED_TYPE => "ERROR_UNSUPPORTED_TYPE",
        _ => "Win32 error",
    }
}

/// The `io::Error` for Win32 code `code` from `what` (an operation and what it was on).
pub(crate) fn win32_error(code: WIN32_ERROR, what: &str) -> io::Error {
    let kind = match code {
        ERROR_FILE_NOT_FOUND | ERROR_PATH_NOT_FOUND | ERROR_KEY_DELETED => io::ErrorKind::NotFound,
        ERROR_ACCESS_DENIED => io::ErrorKind::PermissionDenied,
        ERROR_INVALID_PARAMETER => io::ErrorKind::InvalidInput,
        ERROR_UNSUPPORTED_TYPE => io::ErrorKind::InvalidData,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("{what}: {} ({code})", code_name(code)))
}

/// `s` as a NUL-terminated UTF-16 string.
fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn check(code: WIN32_ERROR, what: impl FnOnce() -> String) -> io::Result<()> {
    if code == ERROR_SUCCESS {
        Ok(())
    } else {
        Err(win32_error(code, &what()))
    }
}

/// An open registry key, closed on drop. `path` is its full name, for messages.
#[derive(Debug)]
pub(crate) struct Key {
    hkey: HKEY,
    path: String,
}

// SAFETY: an HKEY is a handle the registry API accepts from any thread.
unsafe impl Send for Key {}

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: `hkey` was opened by RegOpenKeyExW/RegCreateKeyExW, is owned by this
        // value alone and is closed exactly once, here.
        unsafe { RegCloseKey(self.hkey) };
    }
}

impl Key {
    /// Opens `path` under `hive`; `NotFound` if it does not exist.
    pub(crate) fn open(hive: Hive, path: &str, access: Access) -> io::Result<Key> {
        Key::open_under(hive.hkey(), hive.name(), path, access)
    }

    /// Opens `path` under `hive`, creating it (and missing parents) if needed; also says
    /// whether it was created.
    pub(crate) fn create(hive: Hive, path: &str, access: Access) -> io::Result<(Key, bool)> {
        Key::create_under(hive.hkey(), hive.name(), path, access)
    }

    /// Opens the subkey `name` of this key.
    pub(crate) fn open_sub(&self, name: &str, access: Access) -> io::Result<Key> {
        Key::open_under(self.hkey, &self.path, name, access)
    }

    /// Opens the subkey `name`, creating it if needed; also says whether it was created.
    pub(crate) fn create_sub(&self, name: &str, access: Access) -> io::Result<(Key, bool)> {
        Key::create_under(self.hkey, &self.path, name, access)
    }

    /// The key's full name (`HKEY_...\...`).
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    fn open_under(parent: HKEY, ppath: &str, name: &str, access: Access) -> io::Result<Key> {
        let path = format!("{ppath}\\{name}");
        let wname = wide(name);
        let mut hkey: HKEY = std::ptr::null_mut();
        // SAFETY: `parent` is an open key or a predefined root; `wname` is a
        // NUL-terminated UTF-16 string alive for the call; `hkey` is a valid out pointer.
        let rc = unsafe { RegOpenKeyExW(parent, wname.as_ptr(), 0, access.sam(), &mut hkey) };
        check(rc, || format!("opening {path}"))?;
        Ok(Key { hkey, path })
    }

    fn create_under(
        parent: HKEY,
        ppath: &str,
        name: &str,
        access: Access,
    ) -> io::Result<(Key, bool)> {
        let path = format!("{ppath}\\{name}");
        let wname = wide(name);
        let mut hkey: HKEY = std::ptr::null_mut();
        let mut disposition = 0u32;
        // SAFETY: as in `open_under`; the class may be NULL, the security attributes
        // NULL (inherit), and `disposition` is a valid out pointer.
        let rc = unsafe {
            RegCreateKeyExW(
                parent,
                wname.as_ptr(),
                0,
                std::ptr::null(),
                REG_OPTION_NON_VOLATILE,
                access.sam(),
                std::ptr::null(),
                &mut hkey,
                &mut disposition,
            )
        };
        check(rc, || format!("creating {path}"))?;
        Ok((Key { hkey, path }, disposition == REG_CREATED_NEW_KEY))
    }

    /// The names of every direct subkey, in the registry's order. Names that are not
    /// valid UTF-16 come out with U+FFFD in place of the bad units.
    pub(crate) fn subkey_names(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        let mut buf = [0u16; MAX_KEY_NAME + 1];
        for index in 0u32.. {
            let mut len = buf.len() as u32;
            // SAFETY: `buf` holds `len` u16s and outlives the call; the reserved,
            // class and time pointers may be NULL.
            let rc = unsafe {
                RegEnumKeyExW(
                    self.hkey,
                    index,
                    buf.as_mut_ptr(),
                    &mut len,
                    std::ptr::null(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            };
            if rc == ERROR_NO_MORE_ITEMS {
                break;
            }
            check(rc, || format!("listing the subkeys of {}", self.path))?;
            let len = (len as usize).min(buf.len());
            names.push(String::from_utf16_lossy(&buf[..len]));
        }
        Ok(names)
    }

    /// Reads the raw bytes and type of value `name`; `None` if there is no such value.
    fn query(&self, name: &str) -> io::Result<Option<(REG_VALUE_TYPE, Vec<u8>)>> {
        let wname = wide(name);
        let mut data: Vec<u8> = vec![0; 256];
        loop {
            let mut ty: REG_VALUE_TYPE = 0;
            let mut len = data.len() as u32;
            // SAFETY: `wname` is NUL-terminated; `data` holds `len` bytes; `ty` and
            // `len` are valid out pointers; the reserved pointer must be NULL.
            let rc = unsafe {
                RegQueryValueExW(
                    self.hkey,
                    wname.as_ptr(),
                    std::ptr::null(),
                    &mut ty,
                    data.as_mut_ptr(),
                    &mut len,
                )
            };
            match rc {
                ERROR_SUCCESS => {
                    data.truncate(len as usize);
                    return Ok(Some((ty, data)));
                }
                ERROR_FILE_NOT_FOUND => return Ok(None),
                // The value grew between calls or is bigger than the buffer: `len`
                // says how big it is now (at least double, in case it keeps growing).
                ERROR_MORE_DATA => data.resize((len as usize).max(data.len() * 2), 0),
                _ => return Err(win32_error(rc, &format!("reading {}\\{name}", self.path))),
            }
        }
    }

    fn wrong_type(&self, name: &str, want: &str, ty: REG_VALUE_TYPE) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}\\{name} is of registry type {ty}, not {want}", self.path),
        )
    }

    /// Reads string value `name` (`REG_SZ`, or `REG_EXPAND_SZ` read as written, not
    /// expanded); `None` if missing. The text ends at the first NUL (the registry does
    /// not promise one); UTF-16 that is not valid comes out with U+FFFD.
    pub(crate) fn get_string(&self, name: &str) -> io::Result<Option<String>> {
        let Some((ty, data)) = self.query(name)? else {
            return Ok(None);
        };
        if ty != REG_SZ && ty != REG_EXPAND_SZ {
            return Err(self.wrong_type(name, "REG_SZ", ty));
        }
        let units: Vec<u16> = data
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .collect();
        Ok(Some(String::from_utf16_lossy(&units)))
    }

    /// Reads `REG_DWORD` value `name`; `None` if missing.
    pub(crate) fn get_dword(&self, name: &str) -> io::Result<Option<u32>> {
        let Some((ty, data)) = self.query(name)? else {
            return Ok(None);
        };
        match <[u8; 4]>::try_from(&data[..]) {
            Ok(b) if ty == REG_DWORD => Ok(Some(u32::from_le_bytes(b))),
            _ => Err(self.wrong_type(name, "REG_DWORD", ty)),
        }
    }

    fn set(&self, name: &str, ty: REG_VALUE_TYPE, data: &[u8]) -> io::Result<()> {
        let wname = wide(name);
        let len = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "registry value too large"))?;
        // SAFETY: `wname` is NUL-terminated and `data` holds `len` bytes, both alive
        // for the call, which only reads them.
        let rc = unsafe { RegSetValueExW(self.hkey, wname.as_ptr(), 0, ty, data.as_ptr(), len) };
        check(rc, || format!("writing {}\\{name}", self.path))
    }

    /// Writes `value` as `REG_SZ` value `name` (UTF-16LE with its terminating NUL).
    pub(crate) fn set_string(&self, name: &str, value: &str) -> io::Result<()> {
        let bytes: Vec<u8> = wide(value).iter().flat_map(|u| u.to_le_bytes()).collect();
        self.set(name, REG_SZ, &bytes)
    }

    /// Writes `REG_DWORD` value `name`.
    pub(crate) fn set_dword(&self, name: &str, value: u32) -> io::Result<()> {
        self.set(name, REG_DWORD, &value.to_le_bytes())
    }

    /// Deletes value `name`; says whether it existed.
    pub(crate) fn delete_value(&self, name: &str) -> io::Result<bool> {
        let wname = wide(name);
        // SAFETY: `wname` is NUL-terminated and alive for the call.
        let rc = unsafe { RegDeleteValueW(self.hkey, wname.as_ptr()) };
        match rc {
            ERROR_FILE_NOT_FOUND => Ok(false),
            _ => check(rc, || format!("deleting {}\\{name}", self.path)).map(|()| true),
        }
    }

    /// Deletes the subkey `name` with everything under it; says whether it existed.
    pub(crate) fn delete_tree(&self, name: &str) -> io::Result<bool> {
        if name.is_empty() {
            // RegDeleteTreeW with an empty name would empty this key itself.
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no subkey name to delete",
            ));
        }
        let wname = wide(name);
        // SAFETY: `wname` is NUL-terminated and alive for the call; a non-empty subkey
        // name makes RegDeleteTreeW delete that subkey (and its tree), nothing else.
        let rc = unsafe { RegDeleteTreeW(self.hkey, wname.as_ptr()) };
        match rc {
            ERROR_FILE_NOT_FOUND => Ok(false),
            _ => check(rc, || format!("deleting {}\\{name}", self.path)).map(|()| true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation, in a key of this test's own under `HKCU\Software\hvsock-tests`.
    #[test]
    fn keys_and_values_round_trip() {
        let leaf = crate::Guid::new_v4().to_string();
        let path = format!("Software\\hvsock-tests\\{leaf}");
        let (k, created) = Key::create(Hive::CurrentUser, &path, Access::ReadWrite).unwrap();
        assert!(created);
        assert!(
            !Key::create(Hive::CurrentUser, &path, Access::Read)
                .unwrap()
                .1
        );
        let (s, created) = k.create_sub("{ABC}", Access::ReadWrite).unwrap();
        assert!(created && s.path().ends_with(&format!("{leaf}\\{{ABC}}")));
        let name = "Службa ✓ 𝄞";
        s.set_string("ElementName", name).unwrap();
        assert_eq!(s.get_string("ElementName").unwrap().as_deref(), Some(name));
        assert_eq!(s.get_string("missing").unwrap(), None);
        s.set_string("long", &"x".repeat(5000)).unwrap();
        assert_eq!(s.get_string("long").unwrap().unwrap().len(), 5000);
        s.set_dword("D", 7).unwrap();
        assert_eq!(s.get_dword("D").unwrap(), Some(7));
        assert_eq!(
            s.get_string("D").unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        assert_eq!(
            s.get_dword("ElementName").unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        assert!(s.delete_value("D").unwrap());
        assert!(!s.delete_value("D").unwrap());
        s.create_sub("deeper", Access::ReadWrite).unwrap();
        k.create_sub("other", Access::Read).unwrap();
        let mut names = k.subkey_names().unwrap();
        names.sort();
        assert_eq!(names, ["other", "{ABC}"]);
        drop(s);
        assert!(
            k.delete_tree("{ABC}").unwrap(),
            "a key with a subkey goes whole"
        );
        assert!(!k.delete_tree("{ABC}").unwrap());
        assert_eq!(k.subkey_names().unwrap(), ["other"]);
        assert_eq!(
            k.delete_tree("").unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        let e = k.open_sub("missing", Access::Read).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains("ERROR_FILE_NOT_FOUND (2)"), "{e}");
        // A handle opened for reading cannot write: access denied, PermissionDenied.
        let ro = Key::open(Hive::CurrentUser, &path, Access::Read).unwrap();
        let e = ro.set_string("x", "y").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert!(e.to_string().contains("ERROR_ACCESS_DENIED (5)"), "{e}");
        drop((k, ro));
        let parent = Key::open(
            Hive::CurrentUser,
            "Software\\hvsock-tests",
            Access::ReadWrite,
        )
        .unwrap();
        assert!(parent.delete_tree(&leaf).unwrap());
        let e = Key::open(Hive::CurrentUser, &path, Access::Read).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn win32_codes_map_to_kinds_without_format_message() {
        for (code, kind) in [
            (ERROR_ACCESS_DENIED, io::ErrorKind::PermissionDenied),
            (ERROR_FILE_NOT_FOUND, io::ErrorKind::NotFound),
            (ERROR_KEY_DELETED, io::ErrorKind::NotFound),
            (1234, io::ErrorKind::Other),
        ] {
            let e = win32_error(code, "doing x");
            assert_eq!(e.kind(), kind, "{code}");
            assert!(
                e.to_string().starts_with("doing x: ")
                    && e.to_string().contains(&format!("({code})"))
            );
        }
    }
}
