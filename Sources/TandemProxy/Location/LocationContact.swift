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

    public init(uri: String, expires: UInt64, q: Int? = nil, callID: String = "", cseq: UInt32 = 0,
                received: String? = nil, path: [String] = [], userAgent: String? = nil, instance: String? = nil,
                regID: Int? = nil, socketIndex: Int = 0, flags: UInt64 = 0) {
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
