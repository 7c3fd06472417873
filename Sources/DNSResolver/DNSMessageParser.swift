import Reactor

/// Decodes a DNS reply (RFC 1035 §4) into a ``DNSAnswer`` for one question type: answer records of
/// that type with their smallest TTL, or for NXDOMAIN/NODATA the negative TTL of RFC 2308 §5 (the
/// smaller of the SOA's TTL and its MINIMUM field, from the authority section). Works on the bytes,
/// follows name compression, never trusts a length.
public enum DNSMessageParser {
    /// Parses `bytes`, the reply to a question of type `type`. `defaultNegativeTTL` is used when a
    /// negative reply carries no SOA; `maxNegativeTTL` caps every negative TTL.
    public static func parse(_ bytes: [UInt8], type: DNSRecordType, defaultNegativeTTL: UInt32,
                             maxNegativeTTL: UInt32) -> DNSAnswer {
        var reader = Reader(bytes: bytes)
        guard bytes.count >= 12 else { return .failure(.malformed) }
        let rcode = bytes[3] & 0x0f
        let qd = reader.u16(at: 4), an = reader.u16(at: 6), ns = reader.u16(at: 8)
        reader.offset = 12
        for _ in 0..<qd {
            guard reader.skipName(), reader.skip(4) else { return .failure(.malformed) }
        }
        var records: [DNSRecord] = []
        var minTTL = UInt32.max
        for _ in 0..<an {
            guard let rr = reader.resourceRecord() else { return .failure(.malformed) }
            guard rr.type == type.rawValue, let record = decode(rr, reader: reader) else { continue }
            records.append(record)
            minTTL = min(minTTL, rr.ttl)
        }
        if rcode == 0, !records.isEmpty { return .records(records, ttl: minTTL) }
        guard rcode == 0 || rcode == 3 else { return .failure(.serverError) }
        var negativeTTL = defaultNegativeTTL
        for _ in 0..<ns {
            guard let rr = reader.resourceRecord() else { break }
            if rr.type == DNSRecordType.soa.rawValue, let minimum = reader.soaMinimum(rdataAt: rr.rdata) {
                negativeTTL = min(rr.ttl, minimum)
            }
        }
        return .negative(nxdomain: rcode == 3, ttl: min(negativeTTL, maxNegativeTTL))
    }

    private static func decode(_ rr: Reader.RR, reader: Reader) -> DNSRecord? {
        let data = rr.rdata
        switch rr.type {
        case DNSRecordType.a.rawValue:
            guard data.count == 4 else { return nil }
            let b = reader.bytes
            let ip = "\(b[data.lowerBound]).\(b[data.lowerBound + 1]).\(b[data.lowerBound + 2]).\(b[data.lowerBound + 3])"
            return SocketAddress(ip: ip, port: 0).map { .address($0) }
        case DNSRecordType.aaaa.rawValue:
            guard data.count == 16 else { return nil }
            var parts: [String] = []
            for i in stride(from: 0, to: 16, by: 2) {
                parts.append(String(reader.u16(at: data.lowerBound + i), radix: 16))
            }
            return SocketAddress(ip: parts.joined(separator: ":"), port: 0).map { .address($0) }
        case DNSRecordType.srv.rawValue:
            guard data.count >= 7 else { return nil }
            var r = reader
            r.offset = data.lowerBound + 6
            guard let target = r.name() else { return nil }
            return .srv(SRVRecord(priority: reader.u16(at: data.lowerBound), weight: reader.u16(at: data.lowerBound + 2),
                                  port: reader.u16(at: data.lowerBound + 4), target: target))
        case DNSRecordType.naptr.rawValue:
            var r = reader
            r.offset = data.lowerBound
            guard data.count >= 4, r.skip(4), let flags = r.characterString(), let service = r.characterString(),
                  let regexp = r.characterString(), let replacement = r.name() else { return nil }
            return .naptr(NAPTRRecord(order: reader.u16(at: data.lowerBound), preference: reader.u16(at: data.lowerBound + 2),
                                      flags: flags.lowercased(), service: service.uppercased(), regexp: regexp,
                                      replacement: replacement))
        default:
            return nil
        }
    }
}

/// A bounds-checked cursor over a DNS message.
struct Reader {
    struct RR {
        var type: UInt16
        var ttl: UInt32
        var rdata: Range<Int>
    }

    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func u16(at i: Int) -> UInt16 {
        guard i + 1 < bytes.count else { return 0 }
        return UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
    }

    func u32(at i: Int) -> UInt32 { UInt32(u16(at: i)) << 16 | UInt32(u16(at: i + 2)) }

    mutating func skip(_ n: Int) -> Bool {
        guard offset + n <= bytes.count else { return false }
        offset += n
        return true
    }

    /// Skips a (possibly compressed) name at the cursor.
    mutating func skipName() -> Bool {
        while offset < bytes.count {
            let length = Int(bytes[offset])
            if length == 0 { offset += 1; return true }
            if length & 0xc0 == 0xc0 { return skip(2) }
            guard skip(1 + length) else { return false }
        }
        return false
    }

    /// Reads a name at the cursor (following compression pointers), lower-cased, no trailing dot.
    mutating func name() -> String? {
        var labels: [String] = []
        var position = offset
        var jumped = false
        var hops = 0
        while position < bytes.count {
            let length = Int(bytes[position])
            if length == 0 {
                if !jumped { offset = position + 1 }
                return labels.joined(separator: ".")
            }
            if length & 0xc0 == 0xc0 {
                guard position + 1 < bytes.count, hops < 64 else { return nil }
                if !jumped { offset = position + 2 }
                jumped = true
                hops += 1
                position = Int(length & 0x3f) << 8 | Int(bytes[position + 1])
                continue
            }
            guard position + 1 + length <= bytes.count else { return nil }
            labels.append(String(decoding: bytes[(position + 1)..<(position + 1 + length)], as: UTF8.self).lowercased())
            position += 1 + length
        }
        return nil
    }

    /// Reads a <character-string> (length byte + bytes).
    mutating func characterString() -> String? {
        guard offset < bytes.count else { return nil }
        let length = Int(bytes[offset])
        guard offset + 1 + length <= bytes.count else { return nil }
        let text = String(decoding: bytes[(offset + 1)..<(offset + 1 + length)], as: UTF8.self)
        offset += 1 + length
        return text
    }

    /// Reads a resource record header and steps over its data.
    mutating func resourceRecord() -> RR? {
        guard skipName(), offset + 10 <= bytes.count else { return nil }
        let type = u16(at: offset)
        let ttl = u32(at: offset + 4)
        let length = Int(u16(at: offset + 8))
        offset += 10
        let start = offset
        guard skip(length) else { return nil }
        return RR(type: type, ttl: ttl & 0x7fff_ffff, rdata: start..<(start + length))
    }

    /// The MINIMUM field of an SOA's data (after MNAME, RNAME, SERIAL, REFRESH, RETRY, EXPIRE).
    func soaMinimum(rdataAt data: Range<Int>) -> UInt32? {
        var r = self
        r.offset = data.lowerBound
        guard r.skipName(), r.skipName(), r.offset + 20 <= data.upperBound else { return nil }
        return u32(at: r.offset + 16)
    }
}
