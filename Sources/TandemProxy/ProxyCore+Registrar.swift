import Reactor
import Synchronization
import SIPCore

/// The registrar (OpenSIPS 3.6 `registrar` over `usrloc`): `save`, `lookup`, `is_registered`, `remove`
/// on ``ProxyCore/location``, the memory of every usrloc mode (the database modes add their statements
/// around these calls, see `ProxyCore+LocationWrites` and TandemServer's `Usrloc`). RFC 3261 §10.3 for REGISTER
/// processing, RFC 3327 for Path, RFC 5626 for `+sip.instance`/`reg-id`.
extension ProxyCore {
    /// The options of `save(domain, flags)` (letters as OpenSIPS 3.6 takes them).
    public struct SaveFlags: Sendable, Equatable {
        /// `r`: no reply is sent (the script replies).
        public var noReply = false
        /// `cN`, `eN`, `EN`: max contacts, min and max expires for this call.
        public var maxContacts: Int?
        public var minExpires: Int?
        public var maxExpires: Int?
        /// `p0` store Path, never echo it; `p1` echo it if the UA supports path; `p2` require that support.
        public var pathMode: Int?

        /// Parses the flag string; unknown letters are ignored (as OpenSIPS does for `m`, `s`, `f`…).
        public init(_ text: String) {
            let bytes = Array(text.utf8)
            var index = 0
            func number() -> Int? {
                var end = index
                while end < bytes.count, bytes[end] >= 48, bytes[end] <= 57 { end += 1 }
                defer { index = end }
                return end > index ? Int(String(decoding: bytes[index..<end], as: UTF8.self)) : nil
            }
            while index < bytes.count {
                let letter = bytes[index]
                index += 1
                switch letter {
                case UInt8(ascii: "r"): noReply = true
                case UInt8(ascii: "c"): maxContacts = number()
                case UInt8(ascii: "e"): minExpires = number()
                case UInt8(ascii: "E"): maxExpires = number()
                case UInt8(ascii: "p"): pathMode = number() ?? 0
                default: break
                }
            }
        }
    }

    /// Seconds on the location service's clock (the worker's reactor clock, monotonic).
    func locationNow(_ worker: WorkerContext) -> UInt64 { worker.reactor.now.nanoseconds / 1_000_000_000 }

    /// The AOR key of a URI: `user@host` with `use_domain`, else the user (the host for a URI
    /// without one); lower-cased (usrloc is case-insensitive by default).
    public func aorKey(forURIText text: String) -> String? {
        guard let uri = (try? URI(parsing: text))?.sipURI else {
            let trimmed = text.lowercased()
            return trimmed.isEmpty ? nil : trimmed
        }
        let host = String(uri.bareHost).lowercased()
        guard let user = uri.user, !user.isEmpty else { return host }
        return settings.registrar.useDomain ? "\(user.lowercased())@\(host)" : user.lowercased()
    }

    /// A REGISTER read for `save`: the error to answer, or the AOR and what its Contacts ask.
    enum ParsedRegister {
        case failure(Int, String, [(HeaderName, String)])
        /// `Contact: *` with `Expires: 0`.
        case wildcard(aor: String, supportsPath: Bool)
        /// Each Contact as a binding, and whether it asks for removal (expires 0).
        case bindings(aor: String, [(LocationContact, remove: Bool)], path: [String], supportsPath: Bool)
    }

    /// RFC 3261 §10.3 steps 5–6 for `save`: the AOR, the Contacts with their expiry, Path (RFC 3327).
    func parseRegister(_ context: RequestContext, flags: SaveFlags, aor explicitAOR: String?) -> ParsedRegister {
        let message = context.message
        let registrar = settings.registrar
        guard message.method == .register else { return .failure(400, "Bad Request", []) }
        guard let aor = explicitAOR.flatMap({ aorKey(forURIText: $0) })
                ?? ((try? message.to())?.uriText).flatMap({ aorKey(forURIText: $0) }) else {
            return .failure(400, "Bad To URI", [])
        }
        let now = locationNow(context.worker)
        let callID = message.callID ?? ""
        let cseq = (try? message.cseq())?.number ?? 0
        let headerExpires = message.header(.expires).flatMap { Int($0.trimmingCharacters()) }
        let minExpires = flags.minExpires ?? registrar.minExpires
        let maxExpires = flags.maxExpires ?? registrar.maxExpires
        let supportsPath = message.headerValues(.supported).contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters() .lowercased() == "path" }
        }
        let path = message.headerValues(.path).flatMap { $0.split(separator: ",").map { $0.trimmingCharacters() } }
        if flags.pathMode == 2 && !path.isEmpty && !supportsPath {
            return .failure(420, "Bad Extension", [(.unsupported, "path")])
        }
        let storedPath = flags.pathMode != nil ? path : []

        if message.isWildcardContact {
            // RFC 3261 §10.3 step 6: `*` only with Expires: 0 and no other Contact.
            guard headerExpires == 0 else { return .failure(400, "Invalid Contact", []) }
            return .wildcard(aor: aor, supportsPath: supportsPath)
        }
        guard let contacts = try? message.contacts() else { return .failure(400, "Bad Contact", []) }
        // `received` only when the script asked (fix_nated_register, received_avp); over a stream the
        // connection the REGISTER came on is the way back, so it is recorded as well.
        let received = context.registerReceived
            ?? (settings.transport(at: context.socketIndex).isReliable ? sourceURI(context) : nil)
        let allowed = LocationContact.methodBits(message.headerValues(.allow))
        var bindings: [(LocationContact, remove: Bool)] = []
        for contact in contacts {
            let asked = (contact.parameters.value(of: "expires") ?? nil).flatMap { Int($0) } ?? headerExpires
                ?? registrar.defaultExpires
            if asked > 0 && minExpires > 0 && asked < minExpires {
                return .failure(423, "Interval Too Brief", [(.minExpires, String(minExpires))])
            }
            var expires = max(0, asked)
            if maxExpires > 0 && expires > maxExpires { expires = maxExpires }
            let q = (contact.parameters.value(of: "q") ?? nil).flatMap { BranchTarget.parseQ($0) }
            let instance = (contact.parameters.value(of: "+sip.instance") ?? nil).map { Self.unquoted($0) }
            let regID = (contact.parameters.value(of: "reg-id") ?? nil).flatMap { Int($0) }
            let binding = LocationContact(
                uri: contact.uriText, expires: now + UInt64(expires), q: q, callID: callID, cseq: cseq,
                received: received, path: storedPath,
                userAgent: message.header(.userAgent), instance: instance, regID: regID,
                socketIndex: context.socketIndex, flags: context.branchFlags,
                methods: (contact.parameters.value(of: "methods") ?? nil).map { LocationContact.methodBits([Self.unquoted($0)]) ?? 0 }
                    ?? allowed)
            bindings.append((binding, expires == 0))
        }
        return .bindings(aor: aor, bindings, path: storedPath, supportsPath: supportsPath)
    }

    /// The AOR's contacts after applying `bindings` to `stored` (§10.3 step 7), nil when more than
    /// `maxContacts` (> 0) would remain.
    static func merged(_ stored: [LocationContact], _ bindings: [(LocationContact, remove: Bool)],
                       maxContacts: Int) -> [LocationContact]? {
        var updated = stored
        for (binding, remove) in bindings {
            if let index = updated.firstIndex(where: { $0.isSameBinding(as: binding) }) {
                // §10.3 step 7: an older or repeated request for the same Call-ID changes nothing.
                if updated[index].callID == binding.callID && updated[index].cseq >= binding.cseq { continue }
                if remove { updated.remove(at: index) } else { updated[index] = binding }
            } else if !remove {
                updated.append(binding)
            }
        }
        if maxContacts > 0 && updated.count > maxContacts { return nil }
        return updated
    }

    /// `save("location"[, flags[, aor]])`: processes a REGISTER (RFC 3261 §10.3 steps 6–8) and replies
    /// 200 with the current bindings (unless `r`). Returns 1 on success, -1 on error (replied with the
    /// error: 400, 423 with Min-Expires, 420, 503 too many contacts).
    public func save(_ context: RequestContext, flags: SaveFlags = SaveFlags(""), aor explicitAOR: String? = nil) -> Int32 {
        func fail(_ status: Int, _ reason: String, _ extra: [(HeaderName, String)] = []) -> Int32 {
            if !flags.noReply { _ = localReply(context, status: status, reason: reason, extraHeaders: extra) }
            return -1
        }
        if context.message.method == .register, !locationSweepStarted.load(ordering: .relaxed),
           locationSweepStarted.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
            startLocationSweep(on: context.worker)
        }
        let now = locationNow(context.worker)
        let writeBack = settings.registrar.mode == .writeBack
        switch parseRegister(context, flags: flags, aor: explicitAOR) {
        case .failure(let status, let reason, let extra):
            return fail(status, reason, extra)
        case .wildcard(let aor, let supportsPath):
            location.update(aor, now: now) { $0.removeAll() }
            if writeBack { location.markDirty(aor) }
            return registrarOK(context, flags: flags, contacts: [], now: now, path: [], supportsPath: supportsPath)
        case .bindings(let aor, let bindings, let storedPath, let supportsPath):
            let maxContacts = flags.maxContacts ?? settings.registrar.maxContacts
            let current = location.update(aor, now: now) { stored -> [LocationContact]? in
                guard let updated = Self.merged(stored, bindings, maxContacts: maxContacts) else { return nil }
                stored = updated
                return updated
            }
            guard let current else { return fail(503, "Too Many Registered Contacts") }
            if writeBack { location.markDirty(aor) }
            return registrarOK(context, flags: flags, contacts: current, now: now, path: storedPath,
                               supportsPath: supportsPath)
        }
    }

    /// The 200 for a REGISTER: every current binding with its remaining time (RFC 3261 §10.3 step 8).
    private func registrarOK(_ context: RequestContext, flags: SaveFlags, contacts: [LocationContact], now: UInt64,
                             path: [String], supportsPath: Bool) -> Int32 {
        guard !flags.noReply else { return 1 }
        var extra: [(HeaderName, String)] = []
        for contact in contacts {
            var value = "<\(contact.uri)>;expires=\(contact.expires > now ? contact.expires - now : 0)"
            if let q = contact.q { value += ";q=\(BranchTarget.formatQ(q))" }
            if let instance = contact.instance { value += ";+sip.instance=\"\(instance)\"" }
            if let regID = contact.regID { value += ";reg-id=\(regID)" }
            if let received = contact.received { value += ";\(settings.registrar.receivedParam)=\"\(received)\"" }
            extra.append((.contact, value))
        }
        if let mode = flags.pathMode, mode >= 1, !path.isEmpty, supportsPath || mode == 2 {
            for hop in path { extra.append((.path, hop)) }
        }
        _ = localReply(context, status: 200, reason: "OK", extraHeaders: extra)
        return 1
    }

    /// Replies in the request's transaction if it has one, else statelessly (as OpenSIPS's registrar
    /// and auth modules reply through sl).
    public func localReply(_ context: RequestContext, status: Int, reason: String?,
                                extraHeaders: [(HeaderName, String)]) -> Int32 {
        if context.transaction != nil {
            return reply(context, status: status, reason: reason, extraHeaders: extraHeaders)
        }
        return statelessReply(context, status: status, reason: reason, extraHeaders: extraHeaders)
    }

    /// `lookup("location"[, flags[, aor]])`: the Request-URI becomes the best contact of the AOR
    /// (from the Request-URI, or `aor`), the others become branches in q order (not with flag `b`).
    /// Flag `m`: only contacts that registered the request's method in Allow.
    /// Returns 1 found, -1 not found (no contact), -2 no contact supports the method (flag `m`), -3
    /// internal error (no usable AOR).
    public func lookup(_ context: RequestContext, flags: String = "", aor explicitAOR: String? = nil) -> Int32 {
        guard let aor = explicitAOR.flatMap({ aorKey(forURIText: $0) })
                ?? context.message.requestURIText.flatMap({ aorKey(forURIText: $0) }) else { return -3 }
        var contacts = location.contacts(of: aor, now: locationNow(context.worker))
        guard !contacts.isEmpty else { return -1 }
        if flags.contains("m"), let method = context.message.method?.name {
            // Method filtering: only contacts whose Allow had the request's method (-2 when none did).
            contacts.removeAll { !$0.accepts(method: method) }
            guard !contacts.isEmpty else { return -2 }
        }
        guard let best = contacts.first else { return -1 }
        context.message.setRequestURI(best.uri)
        context.branchFlags = best.flags
        context.destinationURI = best.path.isEmpty ? best.received : nil
        if let socket = registeredSendSocket(best) { context.forcedSocketIndex = socket }
        for hop in best.path.reversed() { context.message.prependHeader(.route, hop) }
        guard !flags.contains("b") else { return 1 }
        for contact in contacts.dropFirst() {
            context.branches.append(BranchTarget(uri: contact.uri, q: contact.q,
                                                 destinationURI: contact.path.isEmpty ? contact.received : nil,
                                                 path: contact.path, flags: contact.flags,
                                                 socketIndex: registeredSendSocket(contact)))
        }
        return 1
    }

    /// The socket a contact's branch leaves from, as OpenSIPS's `lookup` forces it: the UDP socket its
    /// REGISTER came in on, when the proxy has several UDP sockets (with one there is no choice; a
    /// stream contact is reached over its own connection).
    private func registeredSendSocket(_ contact: LocationContact) -> Int? {
        guard settings.listen.count > 1, contact.socketIndex >= 0, contact.socketIndex < settings.listen.count
        else { return nil }
        return contact.socketIndex
    }

    /// `is_registered("location"[, aor])` / `registered()`: 1 if the AOR (from `aor`, else the To of a
    /// REGISTER or the Request-URI) has a live contact, else -1.
    public func isRegistered(_ context: RequestContext, aor explicitAOR: String? = nil) -> Int32 {
        let message = context.message
        let text = explicitAOR ?? (message.method == .register ? (try? message.to())?.uriText : message.requestURIText)
        guard let aor = text.flatMap({ aorKey(forURIText: $0) }) else { return -1 }
        return location.contacts(of: aor, now: locationNow(context.worker)).isEmpty ? -1 : 1
    }

    /// `remove("location", aor[, contact])`: drops the AOR's contacts (or the one contact). 1 if any
    /// went, -1 otherwise.
    public func removeRegistration(aor text: String, contact: String? = nil) -> Int32 {
        guard let aor = aorKey(forURIText: text) else { return -1 }
        let removed = location.remove(aor, contact: contact?.isEmpty == true ? nil : contact)
        // Every database mode writes the AOR at the next usrloc timer run.
        if removed > 0 && settings.registrar.mode.usesDatabase { location.markDirty(aor) }
        return removed > 0 ? 1 : -1
    }

    /// Purges expired contacts every ``locationSweepMilliseconds`` on `worker` (the worker of the first
    /// `save`).
    func startLocationSweep(on worker: WorkerContext) {
        _ = worker.reactor.schedule(afterMilliseconds: Self.locationSweepMilliseconds) { [weak worker, weak self] in
            guard let worker, let self else { return }
            self.location.purgeExpired(now: self.locationNow(worker))
            self.startLocationSweep(on: worker)
        }
    }

    static let locationSweepMilliseconds: UInt64 = 10_000

    static func unquoted(_ text: String) -> String {
        var s = Substring(text)
        if s.first == "\"", s.last == "\"", s.count >= 2 { s = s.dropFirst().dropLast() }
        return String(s)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
