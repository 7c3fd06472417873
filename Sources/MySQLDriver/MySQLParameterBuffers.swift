import CMariaDB
import Glibc

/// The `MYSQL_BIND` array of one execution's parameters: every value sent as a string
/// (`MYSQL_TYPE_STRING`, the server converts it to the column's type), `nil` as SQL NULL. The library
/// reads the buffers while the execute runs, so they live until this object is released.
final class MySQLParameterBuffers {
    let binds: UnsafeMutablePointer<MYSQL_BIND>
    private let count: Int
    private let lengths: UnsafeMutablePointer<UInt>
    private var buffers: [UnsafeMutablePointer<UInt8>] = []

    init(_ values: [String?]) {
        count = values.count
        binds = UnsafeMutablePointer<MYSQL_BIND>.allocate(capacity: max(1, count))
        binds.initialize(repeating: MYSQL_BIND(), count: max(1, count))
        lengths = UnsafeMutablePointer<UInt>.allocate(capacity: max(1, count))
        lengths.initialize(repeating: 0, count: max(1, count))
        for (index, value) in values.enumerated() {
            guard let value else {
                binds[index].buffer_type = MYSQL_TYPE_NULL
                continue
            }
            let bytes = Array(value.utf8)
            let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bytes.count))
            bytes.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { buffer.initialize(from: base, count: bytes.count) }
            }
            buffers.append(buffer)
            lengths[index] = UInt(bytes.count)
            binds[index].buffer_type = MYSQL_TYPE_STRING
            binds[index].buffer = UnsafeMutableRawPointer(buffer)
            binds[index].buffer_length = UInt(bytes.count)
            binds[index].length = lengths + index
        }
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
        lengths.deallocate()
        binds.deallocate()
    }
}

/// C strings that must outlive a suspended library call (the non-blocking calls keep the pointers they
/// were given until they complete): copies, freed together.
final class MySQLRetainedStrings {
    private var pointers: [UnsafeMutablePointer<CChar>] = []

    /// A copy of `text` valid until ``release()`` (or deinit); `nil` stays `nil`.
    func copy(_ text: String?) -> UnsafeMutablePointer<CChar>? {
        guard let text, let pointer = strdup(text) else { return nil }
        pointers.append(pointer)
        return pointer
    }

    /// Frees every copy.
    func release() {
        for pointer in pointers { free(pointer) }
        pointers.removeAll()
    }

    deinit { release() }
}
