import Glibc
import Reactor
import TandemAsync
import TandemProxy
import TandemScript

/// The SQL of the usrloc database modes over OpenSIPS 3.6's `location` table (PostgreSQL; every value
/// a bound parameter, the table name checked as a plain identifier). `expires` in the table is Unix
/// time; in memory it is seconds on the location clock (monotonic), converted with both "nows".
enum UsrlocSQL {
    /// The columns read back, in this order (`col0`…).
    static let readColumns = "contact, expires, q, callid, cseq, received, path, user_agent, sip_instance, flags, "
        + "methods, kv_store"

    /// The two clocks at one moment: Unix seconds and location-clock seconds.
    struct Clocks: Sendable {
        var wall: Int
        var location: UInt64

        init(wall: Int = Int(time(nil)), location: UInt64) {
            self.wall = wall
            self.location = location
        }

        func wall(of expires: UInt64) -> Int {
            expires >= location ? wall + Int(expires - location) : wall
        }

        func location(of expires: Int) -> UInt64 {
            expires > wall ? location + UInt64(expires - wall) : location
        }
    }

    /// `table` when it is a plain SQL identifier, else `location`.
    static func table(_ name: String) -> String {
        !name.isEmpty && AuthDB.isIdentifier(name) ? name : "location"
    }

    /// username and domain of an AOR key (`user@domain` with `use_domain`, else `user` and NULL).
    static func split(_ aor: String, useDomain: Bool) -> (String, String?) {
        guard useDomain, let at = aor.lastIndex(of: "@") else { return (aor, nil) }
        return (String(aor[..<at]), String(aor[aor.index(after: at)...]))
    }

    /// One statement applying `write`: delete the AOR's rows (all, or those of the named contacts),
    /// then insert the written contacts. With `returning`, the statement also returns the AOR's live
    /// rows as they are after it (``readColumns``): the inserted ones plus the untouched ones.
    static func write(_ write: ProxyCore.LocationWrite, table: String, useDomain: Bool, clocks: Clocks,
                      returning: Bool = false, maxContacts: Int = 0, socket: (Int) -> String?) -> (String, [String?]) {
        let (user, domain) = split(write.aor, useDomain: useDomain)
        var parameters: [String?] = [user, domain]
        func bind(_ value: String?) -> String {
            parameters.append(value)
            return "$\(parameters.count)"
        }
        var delete = "DELETE FROM \(table) WHERE username = $1 AND domain IS NOT DISTINCT FROM $2"
        var deletedList = ""
        if !write.deleteAll {
            let uris = write.deleted.count < 2 ? write.deleted : Array(Set(write.deleted))
            deletedList = uris.map { bind($0) }.joined(separator: ", ")
            delete += uris.isEmpty ? " AND false" : " AND contact IN (\(deletedList))"
        }
        // sql-only with max_contacts: the table's count decides (another instance's rows included), in the
        // statement's snapshot. Over the limit nothing is deleted or inserted; the rows returned are then
        // the AOR's unchanged ones and the registrar's merge over them answers 503.
        var limitCTE = "", limitCondition = ""
        if returning && maxContacts > 0 && !write.deleteAll && !write.written.isEmpty {
            let kept = "SELECT count(*) FROM \(table) WHERE username = $1 AND domain IS NOT DISTINCT FROM $2 "
                + "AND expires > \(bind(String(clocks.wall)))::integer"
                + (deletedList.isEmpty ? "" : " AND contact NOT IN (\(deletedList))")
            limitCTE = "within_limit AS (SELECT (\(kept)) + \(write.written.count) <= \(maxContacts) AS ok), "
            limitCondition = " AND (SELECT ok FROM within_limit)"
            delete += limitCondition
        }
        // The rows of the AOR that the statement leaves alone (its snapshot is from before the delete).
        func untouched() -> String {
            "SELECT \(readColumns) FROM \(table) WHERE username = $1 AND domain IS NOT DISTINCT FROM $2 "
                + "AND expires > \(bind(String(clocks.wall)))::integer AND contact NOT IN (SELECT contact FROM gone)"
        }
        guard !write.written.isEmpty else {
            guard returning else { return (delete, parameters) }
            return ("WITH gone AS (\(delete) RETURNING contact) \(untouched())", parameters)
        }
        var rows: [String] = []
        for contact in write.written {
            let id = bind(String(max(1, UniqueRandom.next() >> 1)))  // 1...Int64.max, no syscall
            let uri = bind(contact.uri), received = bind(contact.received)
            let path = bind(contact.path.isEmpty ? nil : contact.path.joined(separator: ","))
            let expires = bind(String(clocks.wall(of: contact.expires)))
            let q = bind(String(Double(contact.effectiveQ) / 1000))
            let callID = bind(contact.callID), cseq = bind(String(min(contact.cseq, UInt32(Int32.max))))
            let agent = bind(contact.userAgent ?? ""), sock = bind(socket(contact.socketIndex))
            let instance = bind(contact.instance), flags = bind(String(contact.flags & 0x7fff_ffff))
            let cflags = bind(String(contact.flags & 0x7fff_ffff))
            let methods = bind(contact.methods.map { String(Int32(bitPattern: $0)) })
            let keyValues = bind(contact.regID.map { "{\"reg-id\":\($0)}" })
            rows.append("(\(id)::bigint, $1, $2, \(uri), \(received), \(path), \(expires)::integer, \(q)::real, "
                + "\(callID), \(cseq)::integer, now(), \(flags)::integer, \(cflags), \(agent), \(sock), \(instance), "
                + "\(methods)::integer, \(keyValues))")
        }
        let columns = "INSERT INTO \(table) (contact_id, username, domain, contact, received, "
            + "path, expires, q, callid, cseq, last_modified, flags, cflags, user_agent, socket, sip_instance, methods, "
            + "kv_store) "
        let insert = limitCondition.isEmpty
            ? columns + "VALUES " + rows.joined(separator: ", ")
            : columns + "SELECT * FROM (VALUES " + rows.joined(separator: ", ") + ") AS v WHERE true" + limitCondition
        guard returning else { return ("WITH gone AS (\(delete)) \(insert)", parameters) }
        return ("WITH \(limitCTE)gone AS (\(delete) RETURNING contact), added AS (\(insert) RETURNING \(readColumns)) "
                    + "SELECT \(readColumns) FROM added UNION ALL \(untouched())", parameters)
    }

    /// The live rows of one AOR.
    static func select(aor: String, table: String, useDomain: Bool, clocks: Clocks) -> (String, [String?]) {
        let (user, domain) = split(aor, useDomain: useDomain)
        return ("SELECT \(readColumns) FROM \(table) WHERE username = $1 AND domain IS NOT DISTINCT FROM $2 "
                    + "AND expires > $3::integer ORDER BY last_modified", [user, domain, String(clocks.wall)])
    }

    /// Every live row (the load at start): username, domain, then ``readColumns``.
    static func selectAll(table: String, clocks: Clocks) -> (String, [String?]) {
        ("SELECT username, domain, \(readColumns) FROM \(table) WHERE expires > $1::integer ORDER BY last_modified",
         [String(clocks.wall)])
    }

    /// Deletes the expired rows (`expires` 0 is a permanent contact, as in OpenSIPS).
    static func purge(table: String, clocks: Clocks) -> (String, [String?]) {
        ("DELETE FROM \(table) WHERE expires > 0 AND expires <= $1::integer", [String(clocks.wall)])
    }

    /// One contact per row of a result with ``readColumns`` from column `offset` (nil: no contact URI).
    static func rows(_ result: AsyncResult, offset: Int = 0, clocks: Clocks) -> [LocationContact?] {
        func column(_ index: Int) -> [String?] {
            if case .list(let values)? = result.output("col\(index + offset)") { return values }
            return []
        }
        let uris = column(0), expires = column(1), q = column(2), callIDs = column(3), cseqs = column(4)
        let received = column(5), paths = column(6), agents = column(7), instances = column(8), flags = column(9)
        let methods = column(10), keyValues = column(11)
        func at(_ values: [String?], _ i: Int) -> String? { i < values.count ? values[i] : nil }
        func nonEmpty(_ values: [String?], _ i: Int) -> String? { at(values, i).flatMap { $0.isEmpty ? nil : $0 } }
        return uris.enumerated().map { i, uri in
            guard let uri else { return nil }
            let qValue = at(q, i).flatMap(Double.init).map { max(0, min(1000, Int(($0 * 1000).rounded()))) }
            let path = nonEmpty(paths, i).map { $0.split(separator: ",").map { $0.trimmingSpacesLocal() } } ?? []
            return LocationContact(
                uri: uri, expires: clocks.location(of: at(expires, i).flatMap { Int($0) } ?? 0), q: qValue,
                callID: at(callIDs, i) ?? "", cseq: at(cseqs, i).flatMap { UInt32($0) } ?? 0,
                received: nonEmpty(received, i), path: path, userAgent: nonEmpty(agents, i),
                instance: nonEmpty(instances, i), regID: nonEmpty(keyValues, i).flatMap(regID(keyValues:)),
                flags: at(flags, i).flatMap { UInt64($0) } ?? 0,
                methods: nonEmpty(methods, i).flatMap { Int32($0) }.map { UInt32(bitPattern: $0) })
        }
    }

    /// The RFC 5626 `reg-id` kept in the `kv_store` column (`{"reg-id":N}`: OpenSIPS 3.6's location table has
    /// no column of its own for it), nil when absent.
    static func regID(keyValues text: String) -> Int? {
        let key = Array("\"reg-id\"".utf8), bytes = Array(text.utf8)
        guard bytes.count >= key.count,
              let start = (0...(bytes.count - key.count)).first(where: { bytes[$0..<($0 + key.count)].elementsEqual(key) })
        else { return nil }
        let rest = bytes[(start + key.count)...].drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: ":") }
        return Int(String(decoding: rest.prefix { $0 >= 48 && $0 <= 57 }, as: UTF8.self))
    }

    /// The contacts of a ``select(aor:table:useDomain:clocks:)`` result; a contact stored twice keeps
    /// its latest row (rows come oldest first).
    static func contacts(_ result: AsyncResult, clocks: Clocks) -> [LocationContact] {
        deduplicated(rows(result, clocks: clocks).compactMap { $0 })
    }

    static func deduplicated(_ contacts: [LocationContact]) -> [LocationContact] {
        var kept: [LocationContact] = []
        for contact in contacts {
            kept.removeAll { $0.uri == contact.uri }
            kept.append(contact)
        }
        return kept
    }

    /// `udp:IP:PORT` of listen socket `index` (the `socket` column).
    static func socketText(listen: [SocketAddress], index: Int) -> String? {
        guard let address = index < listen.count ? listen[index] : listen.first else { return nil }
        return "udp:\(address.family == .ipv6 ? "[\(address.ip)]" : address.ip):\(address.port)"
    }
}

extension Substring {
    fileprivate func trimmingSpacesLocal() -> String {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
