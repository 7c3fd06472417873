extension Expr {
    /// A one-label host name compared with an address (`src_ip == localhost`, `$Ri != gateway`): a bare
    /// word that is no keyword, on the other side of `src_ip`, `dst_ip`, `$si` or `$Ri`.
    func singleLabelHost(comparedWith other: Expr) -> String? {
        guard case .word(let w) = kind, ExprAliases.message[w] == nil, ScriptLogLevel(name: w) == nil else { return nil }
        switch other.kind {
        case .word("src_ip"), .word("dst_ip"): return w.lowercased()
        case .pv(let ref) where (ref.spec.name == "si" || ref.spec.name == "Ri") && ref.spec.argument == nil
                && ref.spec.index == nil && ref.spec.transformations.isEmpty && ref.spec.context == nil:
            return w.lowercased()
        default: return nil
        }
    }
}
