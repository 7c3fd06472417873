/// registrar's `reg_fetch_contacts(domain, uri, profile)` and `$ulc(profile=>attr)[index]`: the fetch
/// copies the AOR's contacts into hidden AVPs, one per attribute, which `$ulc` reads (index 0 is the
/// best contact, as `lookup` orders them).
public enum UlcProfile {
    /// The attributes `$ulc` reads: per AOR (`aor`, `domain`, `count`) and per contact.
    public static let attributes = ["aor", "domain", "count", "addr", "path", "received", "expires", "callid", "q",
                                    "cseq", "flags", "user_agent", "socket", "sip_instance"]

    /// The hidden AVP holding `attr` of `profile`.
    static func avpName(_ profile: String, _ attr: String) -> String { "__ulc:\(profile)=>\(attr)" }

    /// `profile=>attr` split, nil when malformed or an unknown attribute.
    static func parse(_ argument: String) -> (String, String)? {
        guard let arrow = argument.firstRange(of: "=>") else { return nil }
        let profile = String(argument[..<arrow.lowerBound]).trimmingSpaces()
        let attr = String(argument[arrow.upperBound...]).trimmingSpaces().lowercased()
        guard !profile.isEmpty, attributes.contains(attr) else { return nil }
        return (profile, attr)
    }
}
