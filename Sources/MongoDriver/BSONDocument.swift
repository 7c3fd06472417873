import CMongoC

/// An owned heap `bson_t` (libbson document). Swift imports `bson_t *` and `bson_iter_t *` as
/// `OpaquePointer` (their 128-byte alignment), so they are only ever created by libbson (`bson_new*`) or
/// in aligned heap storage (`tandem_bson_*_alloc`), never on the Swift stack.
final class BSONDocument {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { bson_destroy(pointer) }

    /// Parses (extended) JSON.
    static func parse(json: String) throws(MongoError) -> BSONDocument {
        var error = bson_error_t()
        let bytes = Array(json.utf8)
        let made: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.map { base in bson_new_from_json(base, buffer.count, &error) } ?? nil
        }
        guard let made else {
            let message = bytes.isEmpty ? "empty command document" : MongoError(error).message
            throw MongoError(domain: error.domain, code: error.code, message: "bad command JSON: \(message)")
        }
        return BSONDocument(taking: made)
    }

    /// A copy of the document the iterator points at (type document or array).
    static func copy(documentAt iterator: OpaquePointer) -> BSONDocument? {
        var length: UInt32 = 0
        var data: UnsafePointer<UInt8>?
        if bson_iter_type(iterator) == BSON_TYPE_ARRAY {
            bson_iter_array(iterator, &length, &data)
        } else {
            bson_iter_document(iterator, &length, &data)
        }
        guard let data, let made = bson_new_from_data(data, Int(length)) else { return nil }
        return BSONDocument(taking: made)
    }

    /// Relaxed extended JSON (`{ "a" : 1 }`).
    var relaxedJSON: String {
        var length = 0
        guard let text = bson_as_relaxed_extended_json(pointer, &length) else { return "" }
        defer { bson_free(text) }
        return String(cString: text)
    }

    /// Calls `body` with an iterator positioned before the first element (`nil` if the document is corrupt).
    func withIterator<R>(_ body: (OpaquePointer?) throws -> R) rethrows -> R {
        guard let iterator = tandem_bson_iter_alloc() else { return try body(nil) }
        defer { free(UnsafeMutableRawPointer(iterator)) }
        guard bson_iter_init(iterator, pointer) else { return try body(nil) }
        return try body(iterator)
    }

    /// Top-level keys in order.
    var keys: [String] {
        withIterator { iterator in
            guard let iterator else { return [] }
            var keys: [String] = []
            while bson_iter_next(iterator) { keys.append(String(cString: bson_iter_key(iterator))) }
            return keys
        }
    }

    /// Calls `body` with an iterator on the element at `path`, or `nil`: a top-level key equal to
    /// `path`, else (for a dotted path such as `"a.b"`) the nested element.
    func withElement<R>(_ path: String, _ body: (OpaquePointer?) throws -> R) rethrows -> R {
        try withIterator { iterator in
            guard let iterator else { return try body(nil) }
            if bson_iter_find(iterator, path) { return try body(iterator) }
            guard path.utf8.contains(UInt8(ascii: ".")), bson_iter_init(iterator, pointer),
                  let child = tandem_bson_iter_alloc() else { return try body(nil) }
            defer { free(UnsafeMutableRawPointer(child)) }
            return try body(bson_iter_find_descendant(iterator, path, child) ? child : nil)
        }
    }
}
