/// The `ip.*` transformations (text forms only: `ip.pton`/`ip.ntop` binary values are not supported).
enum IPTransformations {
    static let all: [String: TransformDefinition] = [
        "ip.isip": TransformDefinition { v, _ in .int(IPAddress(StringTransformations.text(v)) == nil ? 0 : 1) },
        "ip.isip4": TransformDefinition { v, _ in .int(IPAddress(StringTransformations.text(v))?.isV6 == false ? 1 : 0) },
        "ip.isip6": TransformDefinition { v, _ in .int(IPAddress(StringTransformations.text(v))?.isV6 == true ? 1 : 0) },
        "ip.family": TransformDefinition { v, _ in
            guard let a = IPAddress(StringTransformations.text(v)) else { return .string("") }
            return .string(a.isV6 ? "INET6" : "INET")
        },
        "ip.matches": TransformDefinition(args: 1...1) { c in
            if let n = c[0], IPNetwork(n.stringValue) == nil {
                return .failure(TransformError(message: "'\(n.stringValue)' is not an IP network"))
            }
            let constant = c[0].flatMap { IPNetwork($0.stringValue) }
            return .success { v, a in
                guard let ip = IPAddress(StringTransformations.text(v)),
                      let net = constant ?? IPNetwork(StringTransformations.text(a[0])) else { return .int(0) }
                return .int(net.contains(ip) ? 1 : 0)
            }
        },
    ]
}
