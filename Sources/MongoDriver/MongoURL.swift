/// OpenSIPS-style MongoDB URLs made acceptable to libmongoc: `mongodb:group://host:port/db.collection`
/// (cachedb_mongodb's form) becomes `mongodb://host:port/db`, the `collection` being kept apart as the
/// default collection. Plain `mongodb://host:port/db?options` URLs pass unchanged.
public struct MongoURL: Sendable, Equatable {
    /// The URL libmongoc is given.
    public var url: String
    /// The collection named after the database (`/db.collection`), if any.
    public var collection: String?

    /// Normalizes `text` (no validation beyond that: libmongoc parses the result).
    public init(_ text: String) {
        var text = Substring(text)
        // "mongodb:group://" → "mongodb://"
        if text.hasPrefix("mongodb:"), !text.hasPrefix("mongodb://"), let scheme = text.firstRange(of: "://") {
            text = "mongodb" + text[scheme.lowerBound...]
        }
        guard let schemeEnd = text.firstRange(of: "://")?.upperBound,
              let slash = text[schemeEnd...].firstIndex(of: "/") else {
            self.url = String(text)
            return
        }
        let pathStart = text.index(after: slash)
        let pathEnd = text[pathStart...].firstIndex(of: "?") ?? text.endIndex
        let path = text[pathStart..<pathEnd]
        if let dot = path.firstIndex(of: ".") {
            let collection = path[path.index(after: dot)...]
            self.url = String(text[..<dot]) + String(text[pathEnd...])
            self.collection = collection.isEmpty ? nil : String(collection)
        } else {
            self.url = String(text)
        }
    }
}
