/// A transformation that picks a part of its input (`uri.user`, `nameaddr.uri`): given the input's
/// UTF-8 bytes, the part's range in them, nil when the input is not a URI / name-addr (the result is
/// then NULL). A case, not a closure: the split is a direct call the optimiser sees through, and
/// consecutive pickers are applied in one pass over the first input's bytes with no string between.
enum PartPicker: Sendable, Equatable {
    case uriScheme, uriUser, uriPassword, uriHost, uriPort, uriParams, uriHeaders
    case nameAddrName, nameAddrURI, nameAddrParams

    /// The range of the part in `b`; nil when `b` is not a URI (name-addr for `nameaddr.*`).
    func pick(_ b: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        switch self {
        case .nameAddrName, .nameAddrURI, .nameAddrParams:
            var n = NameAddr(unsplit: b)
            guard n.split() else { return nil }
            switch self {
            case .nameAddrName: return n.name
            case .nameAddrURI: return n.uri
            default: return n.params
            }
        default:
            var u = URIParts(unsplit: b)
            guard u.split() else { return nil }
            switch self {
            case .uriScheme: return u.scheme
            case .uriUser: return u.user
            case .uriPassword: return u.password
            case .uriHost: return u.host
            case .uriPort: return u.port
            case .uriParams: return u.params
            default: return u.headers
            }
        }
    }
}
