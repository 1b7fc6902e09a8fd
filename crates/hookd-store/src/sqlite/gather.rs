//! Gathered writes: a VFS over SQLite's own that turns a commit's WAL frames into one write,
//! and its checkpoint's pages into one write a run of pages.
//!
//! SQLite writes each WAL frame with two `pwrite`s (its 24-byte header, then the page), so a
//! commit of about 45 frames is about 90 system calls, each locking the file and its page cache
//! again: about 11 % of hookd's CPU under load, where one write of the same bytes costs a fifth
//! of it. While the intake's connection runs `COMMIT` (`with_gathering`), its WAL writes that
//! follow one another are kept in memory and written as one when SQLite next syncs, reads,
//! sizes, truncates or closes the file, or writes elsewhere in it, or once they would pass
//! 124 KiB.
//!
//! Why that is as durable and as visible as SQLite's own writes: gathering is on only within a
//! `COMMIT` run with `synchronous = FULL`, from its start to its sync of the WAL (the sync of a
//! new WAL's header alone, before the frames of the first commit after a restart, writes the
//! header out and gathering goes on). In it
//! SQLite writes the commit's frames, syncs the WAL (`xSync`, which writes the gathered frames
//! first), and only after that publishes them in the wal-index for other connections to read
//! (`walFrames` in SQLite's `wal.c`). So no frame is published, or synced, before it is in the
//! file. A commit that fails before its sync leaves frames that no one will read, which are
//! dropped rather than written (`with_gathering`). Every other file, and these two outside that
//! window, go straight to SQLite's VFS. `kill -9` mid-commit loses only frames of a commit
//! that no one was told of.
//!
//! The same connection's database file is wrapped too. In WAL mode only a checkpoint writes
//! to it, and SQLite's automatic checkpoint runs inside the `COMMIT` that takes the WAL past
//! 1,000 pages, so within `with_gathering`. It copies the pages in ascending order, one
//! `pread` of the WAL and one `pwrite` a page (about 350 a checkpoint, most of them runs of
//! neighbours at the file's end); consecutive ones are gathered, and written as one when the
//! next does not follow, or before anything else. Every checkpoint ends its copying with
//! `SQLITE_FCNTL_CKPT_DONE`, a file control, which writes out what is gathered, before it syncs
//! the file and before it publishes how far the WAL is copied (`nBackfill`, in `walCheckpoint`):
//! until then every reader takes those pages from the WAL. The database file's methods are
//! version 2, so SQLite never memory-maps it and reads around what is gathered. `kill -9`
//! mid-checkpoint loses pages whose copy was not yet published, which the next checkpoint
//! copies from the WAL again, as after any crash.

use std::ffi::{CStr, c_int, c_void};
use std::mem::{ManuallyDrop, size_of};
use std::ptr::{self, null_mut};
use std::sync::OnceLock;

use libsqlite3_sys as ffi;

/// The VFS's name, for `sqlite3_open_v2`.
pub(super) const NAME: &CStr = c"hookd-gather";

/// The most one write passes to SQLite's VFS: its unix write takes at most 128 KiB less a byte
/// a call (and reports a larger one as a full disk). Also the most gathered: what would pass it
/// is written out first, as SQLite itself would have written it by then (a commit of 30 events
/// writes about 200 KiB of WAL, a checkpoint runs of up to a megabyte).
const CHUNK: usize = 124 << 10;

/// The size of a WAL's header.
const WAL_HEADER: usize = 32;

/// Registers the VFS (once per process); false if SQLite has no default VFS to wrap.
pub(super) fn register() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        // SAFETY: `sqlite3_vfs_find(NULL)` returns the default VFS, which lives as long as the
        // process; ours is leaked, so it does too, as `sqlite3_vfs_register` requires.
        unsafe {
            let real = ffi::sqlite3_vfs_find(ptr::null());
            if real.is_null() {
                return false;
            }
            let mut vfs = ptr::read(real);
            vfs.szOsFile =
                c_int::try_from(size_of::<Gathered>()).expect("small") + (*real).szOsFile;
            vfs.zName = NAME.as_ptr();
            vfs.pAppData = real.cast();
            vfs.pNext = null_mut();
            vfs.xOpen = Some(open);
            let vfs = Box::leak(Box::new(vfs));
            ffi::sqlite3_vfs_register(vfs, 0) == ffi::SQLITE_OK
        }
    })
}

/// Runs `commit`, the `COMMIT` of a connection opened on this VFS with `synchronous = FULL`,
/// with its WAL writes gathered up to its first sync, and the database writes of the checkpoint
/// it may run up to the checkpoint's end. Writes still gathered when it returns belong to a
/// commit or checkpoint that failed before it published them: nothing reads them, and they
/// are dropped.
pub(super) fn with_gathering<T, E>(
    db: *mut ffi::sqlite3,
    commit: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    let files = [file_of(db, FileKind::Wal), file_of(db, FileKind::Db)];
    for file in files.iter().flatten() {
        // SAFETY: `file` is one of this connection's open files, and the caller holds the
        // connection.
        unsafe { (**file).gathering = true };
    }
    let result = commit();
    for file in files.into_iter().flatten() {
        // SAFETY: as above; the files stay open while the connection does.
        let file = unsafe { &mut *file };
        file.gathering = false;
        if result.is_ok() && !file.pending.is_empty() {
            // A commit that returned without a sync (not FULL after all), or a checkpoint that
            // did not end: what was written may be published already, so it goes to the file
            // at once rather than never.
            debug_assert!(false, "a gathered commit ended with writes pending");
            // SAFETY: as above.
            let rc = unsafe { file.write_out() };
            if rc != ffi::SQLITE_OK {
                tracing::error!(rc, "writing out a commit's writes after it returned failed");
            }
        }
        file.pending.clear();
    }
    result
}

/// Whether the connection's WAL and database file are open through this VFS.
#[cfg(test)]
pub(super) fn opened_here(db: *mut ffi::sqlite3) -> bool {
    file_of(db, FileKind::Wal).is_some() && file_of(db, FileKind::Db).is_some()
}

#[derive(Clone, Copy)]
enum FileKind {
    Wal,
    Db,
}

/// The connection's WAL or database file, if it is open and one of ours.
fn file_of(db: *mut ffi::sqlite3, kind: FileKind) -> Option<*mut Gathered> {
    let (op, methods) = match kind {
        FileKind::Wal => (ffi::SQLITE_FCNTL_JOURNAL_POINTER, &WAL_METHODS),
        FileKind::Db => (ffi::SQLITE_FCNTL_FILE_POINTER, &DB_METHODS),
    };
    let mut file: *mut ffi::sqlite3_file = null_mut();
    // SAFETY: the handle is open; SQLite writes the file's pointer (for the journal, in WAL
    // mode, the WAL's), or NULL, to `file`.
    let rc = unsafe { ffi::sqlite3_file_control(db, c"main".as_ptr(), op, (&raw mut file).cast()) };
    // SAFETY: a non-NULL file is open, and its methods say whether it is a `Gathered`.
    let ours =
        rc == ffi::SQLITE_OK && !file.is_null() && unsafe { ptr::eq((*file).pMethods, methods) };
    ours.then_some(file.cast())
}

/// A WAL or database file: SQLite's own (`real`, in the same allocation, right after this) and
/// the writes gathered for it.
#[repr(C)]
struct Gathered {
    /// SQLite's part of every file: our methods.
    base: ffi::sqlite3_file,
    real: *mut ffi::sqlite3_file,
    gathering: bool,
    /// Where `pending` goes in the file.
    start: i64,
    pending: ManuallyDrop<Vec<u8>>,
}

impl Gathered {
    /// Writes what was gathered, if anything. Dropped either way: after a failed write, what
    /// SQLite does next (a failed sync, so a failed commit) no longer needs it.
    unsafe fn write_out(&mut self) -> c_int {
        if self.pending.is_empty() {
            return ffi::SQLITE_OK;
        }
        let mut rc = ffi::SQLITE_OK;
        let mut offset = self.start;
        for chunk in self.pending.chunks(CHUNK) {
            let len = c_int::try_from(chunk.len()).expect("a chunk is small");
            // SAFETY: `real` is open; the chunk is valid for `len` bytes.
            rc = unsafe {
                real_methods(self.real).xWrite.expect("every VFS writes")(
                    self.real,
                    chunk.as_ptr().cast(),
                    len,
                    offset,
                )
            };
            if rc != ffi::SQLITE_OK {
                break;
            }
            offset += i64::from(len);
        }
        self.pending.clear();
        // One write of SQLite's own larger than a chunk leaves no buffer of its size behind.
        self.pending.shrink_to(CHUNK);
        rc
    }
}

/// The VFS SQLite's own wraps, kept as our VFS's `pAppData`.
unsafe fn real_vfs(vfs: *mut ffi::sqlite3_vfs) -> *mut ffi::sqlite3_vfs {
    // SAFETY: our VFS's `pAppData` is the real one (`register`).
    unsafe { (*vfs).pAppData.cast() }
}

unsafe fn real_methods<'a>(real: *mut ffi::sqlite3_file) -> &'a ffi::sqlite3_io_methods {
    // SAFETY: an open file's methods live as long as its VFS.
    unsafe { &*(*real).pMethods }
}

unsafe extern "C" fn open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: SQLite gives `file` `szOsFile` bytes: a `Gathered` and then the real VFS's file.
    unsafe {
        let real_vfs = real_vfs(vfs);
        let real_open = (*real_vfs).xOpen.expect("every VFS opens");
        let methods = if flags & ffi::SQLITE_OPEN_WAL != 0 {
            &WAL_METHODS
        } else if flags & ffi::SQLITE_OPEN_MAIN_DB != 0 {
            &DB_METHODS
        } else {
            // Neither: the real file takes the allocation's start, and SQLite calls it directly.
            return real_open(real_vfs, name, file, flags, out_flags);
        };
        let real = file
            .cast::<u8>()
            .add(size_of::<Gathered>())
            .cast::<ffi::sqlite3_file>();
        let rc = real_open(real_vfs, name, real, flags, out_flags);
        if rc != ffi::SQLITE_OK {
            // No methods: SQLite will not call close.
            (*file).pMethods = ptr::null();
            return rc;
        }
        file.cast::<Gathered>().write(Gathered {
            base: ffi::sqlite3_file { pMethods: methods },
            real,
            gathering: false,
            start: 0,
            pending: ManuallyDrop::new(Vec::new()),
        });
        ffi::SQLITE_OK
    }
}

/// The WAL file's methods: each writes out what was gathered first, except `xWrite`, which
/// gathers, and those that touch no data.
static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

/// The database file's methods: the WAL's, and shared memory passed on. Version 2, not the real
/// file's 3: SQLite then never memory-maps it (`xFetch`), which would read around what was
/// gathered (hookd leaves `mmap_size` at 0 anyway).
static DB_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 2,
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    ..WAL_METHODS
};

/// The `Gathered` SQLite calls a method of.
unsafe fn gathered<'a>(file: *mut ffi::sqlite3_file) -> &'a mut Gathered {
    // SAFETY: only `Gathered`s have `WAL_METHODS` or `DB_METHODS`; SQLite calls one method of a
    // file at a time.
    unsafe { &mut *file.cast::<Gathered>() }
}

/// Writes out what was gathered, then runs `then` on the real file.
unsafe fn after_write_out(
    file: *mut ffi::sqlite3_file,
    then: impl FnOnce(&ffi::sqlite3_io_methods, *mut ffi::sqlite3_file) -> c_int,
) -> c_int {
    // SAFETY: see `gathered` and `real_methods`.
    unsafe {
        let file = gathered(file);
        let rc = file.write_out();
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        then(real_methods(file.real), file.real)
    }
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes a file once and never uses it after.
    unsafe {
        let file = gathered(file);
        let written = file.write_out();
        let closed = real_methods(file.real).xClose.expect("every VFS closes")(file.real);
        ManuallyDrop::drop(&mut file.pending);
        if written == ffi::SQLITE_OK {
            closed
        } else {
            written
        }
    }
}

unsafe extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite's arguments, passed on.
    unsafe {
        after_write_out(file, |m, real| {
            m.xRead.expect("read")(real, buf, amount, offset)
        })
    }
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: `data` is valid for `amount` bytes (SQLite's argument).
    unsafe {
        let file = gathered(file);
        let Ok(len) = usize::try_from(amount) else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        let follows = file.start + file.pending.len() as i64 == offset;
        if !file.gathering || !follows || file.pending.len() + len > CHUNK {
            let rc = file.write_out();
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            if !file.gathering {
                return real_methods(file.real).xWrite.expect("write")(
                    file.real, data, amount, offset,
                );
            }
        }
        if file.pending.is_empty() {
            file.start = offset;
            file.pending.reserve(CHUNK);
        }
        file.pending
            .extend_from_slice(std::slice::from_raw_parts(data.cast::<u8>(), len));
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    // SAFETY: SQLite's arguments, passed on.
    unsafe { after_write_out(file, |m, real| m.xTruncate.expect("truncate")(real, size)) }
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    // SAFETY: SQLite's arguments, passed on.
    unsafe {
        // Gathering ends at the commit's sync: whatever SQLite writes after it (padding to a
        // sector) goes straight to the file, since it may be published without another sync.
        // Except after the sync of a new WAL's header alone: the first commit after a restart
        // writes the 32-byte header at the start and syncs it before any frame (`walFrames`),
        // and at FULL its frames that follow end with a sync of their own as usual.
        let gathered_file = gathered(file);
        let header_alone = ptr::eq(gathered_file.base.pMethods, &WAL_METHODS)
            && gathered_file.start == 0
            && gathered_file.pending.len() == WAL_HEADER;
        if !header_alone {
            gathered_file.gathering = false;
        }
        after_write_out(file, |m, real| m.xSync.expect("sync")(real, flags))
    }
}

unsafe extern "C" fn file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    // SAFETY: SQLite's arguments, passed on.
    unsafe { after_write_out(file, |m, real| m.xFileSize.expect("size")(real, size)) }
}

unsafe extern "C" fn file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: SQLite's arguments, passed on.
    unsafe {
        after_write_out(file, |m, real| {
            m.xFileControl.expect("control")(real, op, arg)
        })
    }
}

/// Runs `then` on the real file: for the methods that touch no data, so nothing is written out.
unsafe fn passed_on(
    file: *mut ffi::sqlite3_file,
    then: impl FnOnce(&ffi::sqlite3_io_methods, *mut ffi::sqlite3_file) -> c_int,
) -> c_int {
    // SAFETY: see `gathered` and `real_methods`.
    unsafe {
        let real = gathered(file).real;
        then(real_methods(real), real)
    }
}

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: SQLite's arguments, passed on.
    unsafe { passed_on(file, |m, real| m.xLock.expect("lock")(real, level)) }
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: SQLite's arguments, passed on.
    unsafe { passed_on(file, |m, real| m.xUnlock.expect("unlock")(real, level)) }
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    // SAFETY: SQLite's arguments, passed on.
    unsafe {
        passed_on(file, |m, real| {
            m.xCheckReservedLock.expect("reserved")(real, out)
        })
    }
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite's arguments, passed on.
    unsafe { passed_on(file, |m, real| m.xSectorSize.map_or(4096, |f| f(real))) }
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite's arguments, passed on.
    unsafe {
        passed_on(file, |m, real| {
            m.xDeviceCharacteristics.map_or(0, |f| f(real))
        })
    }
}

unsafe extern "C" fn shm_map(
    file: *mut ffi::sqlite3_file,
    page: c_int,
    page_size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: SQLite's arguments, passed on.
    unsafe {
        passed_on(file, |m, real| {
            m.xShmMap.expect("WAL mode maps shared memory")(real, page, page_size, extend, out)
        })
    }
}

unsafe extern "C" fn shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: SQLite's arguments, passed on.
    unsafe {
        passed_on(file, |m, real| {
            m.xShmLock.expect("WAL mode locks shared memory")(real, offset, n, flags)
        })
    }
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: SQLite's argument, passed on.
    unsafe {
        passed_on(file, |m, real| {
            if let Some(barrier) = m.xShmBarrier {
                barrier(real);
            }
            ffi::SQLITE_OK
        });
    }
}

unsafe extern "C" fn shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    // SAFETY: SQLite's arguments, passed on.
    unsafe {
        passed_on(file, |m, real| {
            m.xShmUnmap.expect("WAL mode unmaps shared memory")(real, delete)
        })
    }
}
