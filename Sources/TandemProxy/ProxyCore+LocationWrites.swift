import SIPCore

/// What the database modes of usrloc need from the registrar: the rows a `save` changes (computed
/// before it is applied, so that write-through can acknowledge only once they are written), the AOR a
/// `lookup` reads, and the location clock.
extension ProxyCore {
    /// The rows one REGISTER changes for its AOR: contacts to delete (by URI) and contacts to write.
    public struct LocationWrite: Sendable, Equatable {
        /// The AOR key (``ProxyCore/aorKey(forURIText:)``).
        public var aor: String
        /// Every row of the AOR goes (`Contact: *`).
        public var deleteAll: Bool
        /// Contact URIs whose rows go (a written contact's old row included).
        public var deleted: [String]
        /// Contacts to insert.
        public var written: [LocationContact]

        public init(aor: String, deleteAll: Bool, deleted: [String], written: [LocationContact]) {
            self.aor = aor
            self.deleteAll = deleteAll
            self.deleted = deleted
            self.written = written
        }
    }

    /// The rows `save(context, flags, aor)` would change, computed against the memory without changing
    /// it; nil when it changes none (an error reply, a repeated request, too many contacts).
    public func plannedWrite(_ context: RequestContext, flags: SaveFlags, aor explicitAOR: String?) -> LocationWrite? {
        let now = locationNow(context.worker)
        switch parseRegister(context, flags: flags, aor: explicitAOR) {
        case .failure:
            return nil
        case .wildcard(let aor, _):
            return LocationWrite(aor: aor, deleteAll: true, deleted: [], written: [])
        case .bindings(let aor, let bindings, _, _):
            let stored = location.contacts(of: aor, now: now)
            guard let merged = Self.merged(stored, bindings,
                                           maxContacts: flags.maxContacts ?? settings.registrar.maxContacts) else {
                return nil
            }
            let written = merged.filter { !stored.contains($0) }
            // A removal also reaches rows this instance does not hold (another instance saved them).
            let deleted = stored.filter { !merged.contains($0) }.map(\.uri) + written.map(\.uri)
                + bindings.filter(\.remove).map(\.0.uri)
            guard !written.isEmpty || !deleted.isEmpty else { return nil }
            return LocationWrite(aor: aor, deleteAll: false, deleted: deleted, written: written)
        }
    }

    /// The AOR `lookup` (or `is_registered` with `registered: true`) would read, nil when none.
    public func lookupAOR(_ context: RequestContext, aor explicitAOR: String?, registered: Bool) -> String? {
        let message = context.message
        if let explicitAOR { return aorKey(forURIText: explicitAOR) }
        let text = registered && message.method == .register ? (try? message.to())?.uriText : message.requestURIText
        return text.flatMap { aorKey(forURIText: $0) }
    }

    /// Whether `aor` has a live contact in memory.
    public func hasContacts(_ aor: String, worker: WorkerContext) -> Bool {
        !location.contacts(of: aor, now: locationNow(worker)).isEmpty
    }

    /// Seconds on the location service's clock (monotonic; contacts' `expires` are on it).
    public func locationSeconds(_ worker: WorkerContext) -> UInt64 { locationNow(worker) }
}
