/// One registered contact of an address-of-record (usrloc's `ucontact`): what `save("location")` stores
/// and `lookup("location")` routes to.
public struct LocationContact: Sendable, Equatable {
    /// The Contact URI as registered.
    public var uri: String
    /// When the binding expires, in seconds on the core's clock (``LocationService`` time).
    public var expires: UInt64
    /// q-value in thousandths, nil when the Contact had none.
    public var q: Int?
    /// Call-ID and CSeq of the REGISTER that last refreshed it (RFC 3261 §10.3 step 7).
    public var callID: String
    public var cseq: UInt32
    /// Where the REGISTER came from (`sip:IP:PORT`) when the contact is behind a NAT (`received`), else nil.
    public var received: String?
    /// The Path vector of the REGISTER (RFC 3327), first hop first.
    public var path: [String]
    /// The User-Agent of the REGISTER.
    public var userAgent: String?
    /// `+sip.instance` and `reg-id` (RFC 5626).
    public var instance: String?
    public var regID: Int?
    /// The listen socket the REGISTER arrived on.
    public var socketIndex: Int
    /// Branch flags to restore on lookup.
    public var flags: UInt64
    /// The methods the contact accepts (the REGISTER's Allow, as ``LocationContact/methodBits(_:)``), nil
    /// when it gave none (every method).
    public var methods: UInt32?

    public init(uri: String, expires: UInt64, q: Int? = nil, callID: String = "", cseq: UInt32 = 0,
                received: String? = nil, path: [String] = [], userAgent: String? = nil, instance: String? = nil,
                regID: Int? = nil, socketIndex: Int = 0, flags: UInt64 = 0, methods: UInt32? = nil) {
        self.uri = uri
        self.expires = expires
        self.q = q
        self.callID = callID
        self.cseq = cseq
        self.received = received
        self.path = path
        self.userAgent = userAgent
        self.instance = instance
        self.regID = regID
        self.socketIndex = socketIndex
        self.flags = flags
        self.methods = methods
    }

    /// True when the contact accepts `method` (no Allow stored: every method).
    public func accepts(method: String) -> Bool {
        guard let methods else { return true }
        return methods & Self.methodBit(method) != 0
    }

    /// The bit of a method in the `methods` column, numbered as OpenSIPS does (INVITE 1, CANCEL 2, ACK 4,
    /// BYE 8, INFO 16, OPTIONS 32, UPDATE 64, REGISTER 128, MESSAGE 256, SUBSCRIBE 512, NOTIFY 1024,
    /// PRACK 2048, REFER 4096, PUBLISH 8192, any other 16384).
    public static func methodBit(_ method: String) -> UInt32 {
        switch method.uppercased() {
        case "INVITE": return 1
        case "CANCEL": return 2
        case "ACK": return 4
        case "BYE": return 8
        case "INFO": return 16
        case "OPTIONS": return 32
        case "UPDATE": return 64
        case "REGISTER": return 128
        case "MESSAGE": return 256
        case "SUBSCRIBE": return 512
        case "NOTIFY": return 1024
        case "PRACK": return 2048
        case "REFER": return 4096
        case "PUBLISH": return 8192
        default: return 16384
        }
    }

    /// The methods of Allow header values (`INVITE, ACK, BYE`), nil when there are none.
    public static func methodBits(_ allowValues: [String]) -> UInt32? {
        var bits: UInt32 = 0
        var any = false
        for value in allowValues {
            for name in value.split(separator: ",") {
                let trimmed = name.trimmingCharacters()
                guard !trimmed.isEmpty else { continue }
                bits |= methodBit(trimmed)
                any = true
            }
        }
        return any ? bits : nil
    }

    /// The q-value used for ordering: a contact without one counts as 1.0 (RFC 3261 §16.6 leaves it to
    /// the proxy; OpenSIPS sorts unset q as the default).
    public var effectiveQ: Int { q ?? 1000 }

    /// True when `other` is the same binding: the same instance (RFC 5626) or else the same URI.
    func isSameBinding(as other: LocationContact) -> Bool {
        if let instance, let otherInstance = other.instance {
            return instance == otherInstance && regID == other.regID
        }
        return uri == other.uri
    }
}
