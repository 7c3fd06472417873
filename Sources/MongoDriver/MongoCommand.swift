import CMongoC

/// One MongoDB command document ready to run: parsed from JSON, with `maxTimeMS` added to read
/// commands from the call's timeout, and the knowledge of how its reply turns into documents.
///
/// - `find` / `aggregate` (any reply with a `cursor`): the documents of `firstBatch`, then of up to
///   ``MongoPoolConfiguration/maxGetMores`` `getMore`s, until the cursor ends or
///   ``MongoPoolConfiguration/maxDocuments`` is reached (an unfinished cursor is killed).
/// - `findAndModify`: its `value` (none when `null`).
/// - any other command: the reply itself without `ok` and the cluster-time fields (e.g. `{"n": 1}`
///   for `insert`/`count`), none if nothing is left.
/// A reply with `writeErrors` or `writeConcernError` is an error.
struct MongoCommand {
    let document: BSONDocument
    /// The command name (first key), lowercased.
    let name: String
    /// The value of the first key when it is a string (the collection for CRUD commands).
    let collection: String?
    /// The keys the `find` projection includes, in order (nil: no inclusion projection).
    let projectionKeys: [String]?

    private static let timedCommands: Set<String> = ["find", "aggregate", "count", "distinct", "findandmodify"]

    init(json: String, timeoutMs: UInt64?) throws(MongoError) {
        let document = try BSONDocument.parse(json: json)
        var name = ""
        var collection: String?
        var projectionKeys: [String]?
        var hasMaxTime = false
        document.withIterator { iterator in
            guard let iterator, bson_iter_next(iterator) else { return }
            name = String(cString: bson_iter_key(iterator)).lowercased()
            if bson_iter_type(iterator) == BSON_TYPE_UTF8 { collection = BSONValueText.text(at: iterator) }
            repeat {
                let key = String(cString: bson_iter_key(iterator))
                if key == "maxTimeMS" { hasMaxTime = true }
                if key == "projection", name == "find", bson_iter_type(iterator) == BSON_TYPE_DOCUMENT,
                   let projection = BSONDocument.copy(documentAt: iterator) {
                    projectionKeys = Self.inclusionKeys(projection)
                }
            } while bson_iter_next(iterator)
        }
        guard !name.isEmpty else { throw MongoError(message: "empty command document") }
        if let timeoutMs, timeoutMs > 0, !hasMaxTime, Self.timedCommands.contains(name) {
            bson_append_int64(document.pointer, "maxTimeMS", -1, Int64(clamping: timeoutMs))
        }
        self.document = document
        self.name = name
        self.collection = collection
        self.projectionKeys = projectionKeys
    }

    /// Keys of an inclusion projection (values that are not 0/false), or nil for an exclusion-only one.
    private static func inclusionKeys(_ projection: BSONDocument) -> [String]? {
        let keys: [String] = projection.withIterator { iterator in
            guard let iterator else { return [] }
            var keys: [String] = []
            while bson_iter_next(iterator) {
                let included: Bool
                switch bson_iter_type(iterator) {
                case BSON_TYPE_INT32, BSON_TYPE_INT64, BSON_TYPE_DOUBLE, BSON_TYPE_BOOL:
                    included = bson_iter_as_bool(iterator)
                default:
                    included = true  // $slice, $elemMatch, expressions
                }
                if included { keys.append(String(cString: bson_iter_key(iterator))) }
            }
            return keys
        }
        return keys.isEmpty ? nil : keys
    }

    /// Runs the command on a client of `pool` (blocking) and returns its documents.
    func run(on pool: MongoClientPool) throws(MongoError) -> [BSONDocument] {
        try pool.withClient { client throws(MongoError) in
            try run(client: client, database: pool.database, configuration: pool.configuration)
        }
    }

    private func run(client: OpaquePointer, database: String,
                     configuration: MongoPoolConfiguration) throws(MongoError) -> [BSONDocument] {
        let reply = try Self.command(client: client, database: database, document.pointer)
        if let cursor = reply.subdocument("cursor") {
            return try drain(cursor: cursor, client: client, database: database, configuration: configuration)
        }
        if name == "findandmodify" {
            return reply.subdocument("value").map { [$0] } ?? []
        }
        let stripped = reply.removing(["ok", "$clusterTime", "operationTime", "$db", "electionId", "opTime"])
        return stripped.keys.isEmpty ? [] : [stripped]
    }

    private func drain(cursor: BSONDocument, client: OpaquePointer, database: String,
                       configuration: MongoPoolConfiguration) throws(MongoError) -> [BSONDocument] {
        let limit = max(1, configuration.maxDocuments)
        var documents: [BSONDocument] = []
        cursor.subdocument("firstBatch")?.appendElements(to: &documents, limit: limit)
        var id = cursor.int64("id") ?? 0
        let namespace = cursor.string("ns") ?? ""
        let collectionName = namespace.firstIndex(of: ".").map { String(namespace[namespace.index(after: $0)...]) }
            ?? collection ?? ""
        var rounds = 0
        while id != 0 && documents.count < limit && rounds < configuration.maxGetMores {
            rounds += 1
            let getMore = try BSONDocument.parse(json: "{\"getMore\": {\"$numberLong\": \"\(id)\"}, \"collection\": "
                                                 + MongoJSON.quote(collectionName) + "}")
            let reply = try Self.command(client: client, database: database, getMore.pointer)
            guard let next = reply.subdocument("cursor") else { break }
            next.subdocument("nextBatch")?.appendElements(to: &documents, limit: limit)
            id = next.int64("id") ?? 0
        }
        if id != 0, let kill = try? BSONDocument.parse(
            json: "{\"killCursors\": \(MongoJSON.quote(collectionName)), \"cursors\": [{\"$numberLong\": \"\(id)\"}]}") {
            _ = try? Self.command(client: client, database: database, kill.pointer)
        }
        return documents
    }

    /// `mongoc_client_command_simple` with an aligned reply; server-reported write errors become errors.
    private static func command(client: OpaquePointer, database: String,
                                _ command: OpaquePointer) throws(MongoError) -> BSONDocument {
        guard let reply = tandem_bson_reply_alloc() else { throw MongoError(message: "out of memory") }
        var error = bson_error_t()
        let ok = mongoc_client_command_simple(client, database, command, nil, reply, &error)
        // Copy the reply into a heap document libbson owns, then release the aligned out-parameter.
        let owned = bson_copy(reply)
        bson_destroy(reply)
        free(UnsafeMutableRawPointer(reply))
        guard ok else { throw MongoError(error) }
        guard let owned else { throw MongoError(message: "out of memory") }
        let document = BSONDocument(taking: owned)
        if let message = document.writeErrorMessage() { throw MongoError(message: message) }
        return document
    }
}
