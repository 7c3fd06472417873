extension PseudoVariables {
    /// `$(<request>name...)` / `$(<reply>name...)`: only variables read from a SIP message take a
    /// context (headers, URIs, `$rs`, `$si`, the body…); it makes them read-only.
    static func classifyInContext(_ spec: PVSpec, _ context: PVContext) -> Result<PVKind, PVError> {
        var inner = spec
        inner.context = nil
        switch classify(inner) {
        case .failure(let e):
            return .failure(e)
        case .success(let kind):
            switch kind {
            case .message, .sdp, .messageIsRequest, .messageType:
                return .success(.inContext(context, kind))
            default:
                return .failure(PVError(message: "'\(spec.text)': a <\(context.rawValue)> context only applies to "
                                        + "variables read from a SIP message (headers, URIs, $rs, $si, the body…), "
                                        + "not to '$\(spec.name)'", missing: nil))
            }
        }
    }
}
