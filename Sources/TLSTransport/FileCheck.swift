import Glibc

/// Opens a configured file the way OpenSSL will, so a missing or unreadable file is reported with its
/// path and the OS reason instead of OpenSSL's generic "system lib".
enum FileCheck {
    /// Throws `.fileUnreadable` naming `what`, `path` and `strerror` when `path` cannot be opened.
    static func readable(_ path: String, what: String, directory: Bool = false) throws(TLSError) {
        let fd = open(path, directory ? O_RDONLY | O_DIRECTORY : O_RDONLY)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw TLSError(.fileUnreadable, "cannot read \(what) \(path)", reason: reason)
        }
        close(fd)
    }
}
