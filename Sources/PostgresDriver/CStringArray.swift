import Glibc

/// Calls `body` with a C array of `strdup`ed copies of `strings` (NULL entries stay NULL), followed by a
/// terminating NULL pointer when `terminated` is set. The copies are freed when `body` returns
/// (libpq copies what it needs during the call).
func withCStringArray<R>(_ strings: [String?], terminated: Bool = false,
                         _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafePointer<CChar>?] = []
    pointers.reserveCapacity(strings.count + 1)
    for string in strings {
        // withCString: a native string lends its own NUL-terminated bytes (no utf8CString array per value).
        pointers.append(string.map { $0.withCString { UnsafePointer(strdup($0)!) } })
    }
    if terminated || pointers.isEmpty { pointers.append(nil) }
    defer {
        for pointer in pointers { if let pointer { free(UnsafeMutablePointer(mutating: pointer)) } }
    }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// A C string from libpq (which may be NULL), trailing newlines removed.
func trimmedMessage(_ pointer: UnsafePointer<CChar>?) -> String {
    guard let pointer else { return "" }
    var text = String(cString: pointer)
    while let last = text.last, last == "\n" || last == " " { text.removeLast() }
    return text
}
