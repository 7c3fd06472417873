import CMongoC

extension BSONDocument {
    /// A copy of the embedded document or array at top-level `key`.
    func subdocument(_ key: String) -> BSONDocument? {
        withElement(key) { iterator in
            guard let iterator else { return nil }
            let type = bson_iter_type(iterator)
            guard type == BSON_TYPE_DOCUMENT || type == BSON_TYPE_ARRAY else { return nil }
            return BSONDocument.copy(documentAt: iterator)
        }
    }

    /// The integer at `key` (int32, int64 or double).
    func int64(_ key: String) -> Int64? {
        withElement(key) { iterator in
            guard let iterator else { return nil }
            switch bson_iter_type(iterator) {
            case BSON_TYPE_INT32, BSON_TYPE_INT64, BSON_TYPE_DOUBLE: return bson_iter_as_int64(iterator)
            default: return nil
            }
        }
    }

    /// The string at `key`.
    func string(_ key: String) -> String? {
        withElement(key) { iterator in
            guard let iterator, bson_iter_type(iterator) == BSON_TYPE_UTF8 else { return nil }
            return BSONValueText.text(at: iterator)
        }
    }

    /// The value at dotted `path` as script text (see ``BSONValueText``); nil when absent or null.
    func text(at path: String) -> String? {
        withElement(path) { iterator in iterator.flatMap { BSONValueText.text(at: $0) } }
    }

    /// Appends the embedded documents of this array/document (up to `limit` in total).
    func appendElements(to documents: inout [BSONDocument], limit: Int) {
        withIterator { iterator in
            guard let iterator else { return }
            while documents.count < limit && bson_iter_next(iterator) {
                if bson_iter_type(iterator) == BSON_TYPE_DOCUMENT, let document = BSONDocument.copy(documentAt: iterator) {
                    documents.append(document)
                }
            }
        }
    }

    /// A copy without the top-level `keys`.
    func removing(_ keys: Set<String>) -> BSONDocument {
        guard let copy = bson_new() else { return self }
        let result = BSONDocument(taking: copy)
        withIterator { iterator in
            guard let iterator else { return }
            while bson_iter_next(iterator) {
                let key = String(cString: bson_iter_key(iterator))
                if !keys.contains(key) { _ = bson_append_iter(copy, nil, 0, iterator) }
            }
        }
        return result
    }

    /// The message of the first entry of `writeErrors`, or of `writeConcernError`.
    func writeErrorMessage() -> String? {
        if let errors = subdocument("writeErrors") {
            var first: [BSONDocument] = []
            errors.appendElements(to: &first, limit: 1)
            if let entry = first.first {
                let code = entry.int64("code").map { " (code \($0))" } ?? ""
                return (entry.string("errmsg") ?? "write error") + code
            }
        }
        if let concern = subdocument("writeConcernError") {
            return concern.string("errmsg") ?? "write concern error"
        }
        return nil
    }
}
