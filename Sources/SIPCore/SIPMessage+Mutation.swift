/// Cheap edits for proxying. Untouched headers keep pointing into the original bytes.
extension SIPMessage {
    /// Replaces the Request-URI (no-op on responses).
    public mutating func setRequestURI(_ text: String) {
        guard isRequest else { return }
        newRequestURI = Array(text.utf8)
    }

    /// Replaces the Request-URI (no-op on responses).
    public mutating func setRequestURI(_ uri: URI) { setRequestURI(uri.description) }

    /// Inserts a header line before the first line of the same name (or at the top of the
    /// header section if there is none), e.g. a new top Via or Record-Route.
    ///
    /// The field list is rebuilt with room for three more lines rather than grown in place: the list is
    /// nearly always shared at this point (the proxy's copy of a request, a branch's copy), so it is
    /// copied anyway, and the copy would keep the parser's reserve of 24 fields; a stored request (a
    /// transaction's, a suspended one) then keeps about half the bytes.
    public mutating func prependHeader(_ name: HeaderName, _ value: String) {
        insertBeforeFirst(name, ownedField(name, value))
    }

    /// ``prependHeader(_:_:)`` of the value `value + valueEnd`, written without joining the two first
    /// (the proxy's Via: the socket's fixed part, then the branch).
    public mutating func prependHeader(_ name: HeaderName, _ value: String, _ valueEnd: String) {
        insertBeforeFirst(name, ownedField(name, value, valueEnd))
    }

    /// ``prependHeader(_:_:)`` of a line built once for many messages (a socket's Record-Route): a
    /// message with no added line yet shares the line's bytes instead of copying them.
    public mutating func prependHeader(_ line: PreparedHeaderLine) {
        insertBeforeFirst(line.name, ownedField(line))
    }

    /// Gives back the room the field list keeps for edits to come (``prependHeader(_:_:)`` leaves three
    /// free), for a message about to be stored for long, such as a request that suspends before its
    /// transaction exists (issue 19: memory per suspended transaction). Same message.
    public mutating func trimFieldStorage() {
        guard fields.capacity > fields.count else { return }
        var exact: [HeaderField] = []
        exact.reserveCapacity(fields.count)
        exact.append(contentsOf: fields)
        fields = exact
    }

    private mutating func insertBeforeFirst(_ name: HeaderName, _ field: HeaderField) {
        let at = firstFieldIndex(name) ?? 0
        var rebuilt: [HeaderField] = []
        rebuilt.reserveCapacity(fields.count + 3)
        rebuilt.append(contentsOf: fields[..<at])
        rebuilt.append(field)
        rebuilt.append(contentsOf: fields[at...])
        fields = rebuilt
    }

    /// Appends a header line at the end of the header section.
    public mutating func appendHeader(_ name: HeaderName, _ value: String) {
        fields.append(ownedField(name, value))
    }

    /// Removes every line named `name`.
    public mutating func removeHeaders(_ name: HeaderName) {
        for i in fieldIndices(name).reversed() { fields.remove(at: i) }
    }

    /// Replaces the value of the first line named `name` (keeping its position and spelling)
    /// and removes the other lines of that name; appends the header if absent.
    public mutating func setHeader(_ name: HeaderName, _ value: String) {
        guard let i = firstFieldIndex(name) else {
            appendHeader(name, value)
            return
        }
        fields[i] = ownedField(like: fields[i], value: value.utf8)
        let code = name.code
        var j = fields.count - 1
        while j > i {
            if fieldMatches(fields[j], name, code: code) { fields.remove(at: j) }
            j -= 1
        }
    }

    /// Removes the first value of `name` (e.g. the top Via, even when several Vias share one
    /// line, or the first Route). Returns the removed value, or nil if there was none.
    @discardableResult
    public mutating func removeFirstValue(_ name: HeaderName) -> String? {
        var removed: String?
        removeFirstValue(name) { removed = makeString($0) }
        return removed
    }

    /// ``removeFirstValue(_:)`` for a caller that does not want the removed text (the top Via of every
    /// reply a proxy forwards): nothing is allocated unless the line must be rewritten.
    public mutating func dropFirstValue(_ name: HeaderName) {
        removeFirstValue(name) { _ in }
    }

    /// Removes the first value of `name`, handing its bytes to `removed` first (not called when there is none).
    private mutating func removeFirstValue(_ name: HeaderName, _ removed: (ArraySlice<UInt8>) -> Void) {
        while let i = firstFieldIndex(name) {
            let f = fields[i]
            let v = valueBytes(f)
            guard let first = firstTopLevel(v) else {
                fields.remove(at: i)
                continue
            }
            removed(v[first])
            if let second = secondTopLevelStart(v) {
                if !f.isOwned && !f.folded {
                    // Narrow the range into the original bytes: no copy.
                    fields[i].valueStart = second
                    fields[i].edited = true
                } else {
                    fields[i] = ownedField(like: f, value: v[second...])
                }
            } else {
                fields.remove(at: i)
            }
            return
        }
    }

    /// Replaces the top Via value with `via` (other values on the same line are kept).
    public mutating func setTopVia(_ via: Via) {
        guard let i = firstFieldIndex(.via) else {
            prependHeader(.via, via.description)
            return
        }
        let f = fields[i]
        let v = valueBytes(f)
        let parts = splitTopLevel(v)
        var nv = Array(via.description.utf8)
        if parts.count > 1 {
            nv.append(ASCII.comma)
            nv.append(ASCII.sp)
            nv.append(contentsOf: v[parts[1].lowerBound...])
        }
        fields[i] = ownedField(like: f, value: nv)
    }

    /// Sets `received` and/or `rport` on the top Via (RFC 3261 §18.2.1, RFC 3581 §4).
    /// Pass nil to leave a parameter unchanged. Per RFC 3581 pass `rport` only when the top Via
    /// carries `rport` (`topVia().rport != .absent`); the top Via value is re-serialized.
    public mutating func setTopViaParams(received: String?, rport: UInt16?) throws(SIPParseError) {
        var via = try topVia()
        if let received { via.received = received }
        if let rport { via.rport = .value(rport) }
        setTopVia(via)
    }

    /// Replaces the body; Content-Length is recomputed by `serialize()`. Sets Content-Type when given.
    public mutating func setBody(_ body: [UInt8], contentType: String? = nil) {
        newBody = body
        if let contentType { setHeader(.contentType, contentType) }
    }

    /// A new line `Name: value` written to `extra`.
    mutating func ownedField(_ name: HeaderName, _ value: String, _ valueEnd: String = "") -> HeaderField {
        let lineStart = extra.count
        let canonicalName = name.canonicalName
        // Room for the whole line at once: `extra` is usually shared with the message this one was
        // copied from, and appending piece by piece copied it, then grew it again.
        extra.reserveCapacity(lineStart + canonicalName.utf8.count + 2 + value.utf8.count + valueEnd.utf8.count)
        extra.append(contentsOf: canonicalName.utf8)
        let nameEnd = extra.count
        extra.append(ASCII.colon)
        extra.append(ASCII.sp)
        let vs = extra.count
        extra.append(contentsOf: value.utf8)
        extra.append(contentsOf: valueEnd.utf8)
        return HeaderField(code: name.code, lineStart: lineStart, nameEnd: nameEnd, valueStart: vs,
                           valueEnd: extra.count, folded: false, owned: true)
    }

    /// `line` as an owned field: its bytes become `extra` when nothing was added yet (shared, not
    /// copied: issue 19, memory per suspended transaction), else they are appended.
    mutating func ownedField(_ line: PreparedHeaderLine) -> HeaderField {
        let lineStart = extra.count
        if extra.isEmpty { extra = line.bytes } else { extra.append(contentsOf: line.bytes) }
        return HeaderField(code: line.name.code, lineStart: lineStart, nameEnd: lineStart + line.nameEnd,
                           valueStart: lineStart + line.valueStart, valueEnd: extra.count, folded: false, owned: true)
    }

    /// An owned copy of `f` (same name spelling) with a new value, written to `extra`.
    mutating func ownedField<C: Collection>(like f: HeaderField, value: C) -> HeaderField where C.Element == UInt8 {
        let name = nameBytes(f)
        let lineStart = extra.count
        extra.append(contentsOf: name)
        let nameEnd = extra.count
        extra.append(ASCII.colon)
        extra.append(ASCII.sp)
        let vs = extra.count
        extra.append(contentsOf: value)
        return HeaderField(code: f.code, lineStart: lineStart, nameEnd: nameEnd, valueStart: vs,
                           valueEnd: extra.count, folded: false, owned: true)
    }
}
