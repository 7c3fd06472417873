import CMongoC

/// How one BSON value becomes a script string: strings raw, numbers plainly (`5`, `-2`, `2.5`; a
/// double with an integral value prints without `.0`), booleans `true`/`false`, `null`/undefined → `nil`,
/// ObjectId as 24 hex digits, dates as milliseconds since the epoch, decimal128 as its decimal text,
/// embedded documents and arrays (and any other type) as relaxed extended JSON.
enum BSONValueText {
    static func text(at iterator: OpaquePointer) -> String? {
        let type = bson_iter_type(iterator)
        switch type {
        case BSON_TYPE_UTF8, BSON_TYPE_SYMBOL, BSON_TYPE_CODE:
            var length: UInt32 = 0
            guard let text = bson_iter_utf8(iterator, &length) else { return "" }
            return text.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                String(decoding: UnsafeBufferPointer(start: $0, count: Int(length)), as: UTF8.self)
            }
        case BSON_TYPE_INT32: return String(bson_iter_int32(iterator))
        case BSON_TYPE_INT64: return String(bson_iter_int64(iterator))
        case BSON_TYPE_DOUBLE: return plain(bson_iter_double(iterator))
        case BSON_TYPE_BOOL: return bson_iter_bool(iterator) ? "true" : "false"
        case BSON_TYPE_NULL, BSON_TYPE_UNDEFINED: return nil
        case BSON_TYPE_DATE_TIME: return String(bson_iter_date_time(iterator))
        case BSON_TYPE_OID:
            guard let oid = bson_iter_oid(iterator) else { return nil }
            var buffer = [CChar](repeating: 0, count: 25)
            bson_oid_to_string(oid, &buffer)
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        case BSON_TYPE_DECIMAL128:
            var value = bson_decimal128_t()
            guard bson_iter_decimal128(iterator, &value) else { return nil }
            var buffer = [CChar](repeating: 0, count: 64)  // BSON_DECIMAL128_STRING is 43
            bson_decimal128_to_string(&value, &buffer)
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        case BSON_TYPE_DOCUMENT:
            return BSONDocument.copy(documentAt: iterator)?.relaxedJSON
        default:
            return wrappedJSON(iterator)
        }
    }

    /// A double without a needless `.0` (`3` rather than `3.0`); other values use Swift's shortest form.
    static func plain(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// Any value as JSON: appended to a one-element document `{ "v" : <value> }` which is then printed
    /// and unwrapped.
    private static func wrappedJSON(_ iterator: OpaquePointer) -> String? {
        guard let holder = bson_new() else { return nil }
        let document = BSONDocument(taking: holder)
        guard bson_append_iter(holder, "v", 1, iterator) else { return nil }
        let json = document.relaxedJSON  // { "v" : X }
        let prefix = "{ \"v\" : "
        let suffix = " }"
        guard json.hasPrefix(prefix), json.hasSuffix(suffix) else { return json }
        return String(json.dropFirst(prefix.count).dropLast(suffix.count))
    }
}
