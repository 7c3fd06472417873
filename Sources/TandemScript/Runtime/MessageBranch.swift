/// One message branch as `$msg.branch.*` of OpenSIPS 3.6 sees it: branch 0 is the Request-URI
/// branch (the R-URI, `$du`, the branch flags of `setbflag`, the forced socket), 1… the branches
/// added by `append_branch`, `$msg.branch = uri` or `lookup`.
public struct MessageBranch: Sendable, Equatable {
    public var uri: String
    public var destinationURI: String?
    /// The Path set, comma-separated.
    public var path: String?
    /// q-value in thousandths, nil when none.
    public var q: Int?
    public var flags: UInt64
    /// The forced send socket as `proto:ip:port`.
    public var socket: String?
    /// `$msg.branch.attr(name)` values (an int or a string each).
    public var attributes: [String: ScriptValue]

    public init(uri: String, destinationURI: String? = nil, path: String? = nil, q: Int? = nil, flags: UInt64 = 0,
                socket: String? = nil, attributes: [String: ScriptValue] = [:]) {
        self.uri = uri
        self.destinationURI = destinationURI
        self.path = path
        self.q = q
        self.flags = flags
        self.socket = socket
        self.attributes = attributes
    }
}

/// The field of a message branch a `$msg.branch...` variable reads or writes.
enum MessageBranchField: Sendable, Equatable {
    case uri, destinationURI, path, q, flags, socket
    /// `$msg.branch.flag(name)`: one flag, 1 or 0.
    case flag(String)
    /// `$msg.branch.attr(name)`.
    case attribute(String)

    init?(name: String) {
        switch name {
        case "uri": self = .uri
        case "duri": self = .destinationURI
        case "path": self = .path
        case "q": self = .q
        case "flags": self = .flags
        case "socket": self = .socket
        default: return nil
        }
    }
}
