/// The branch set (core `append_branch`) and the registrar module's functions (`save`, `lookup`,
/// `is_registered`/`registered`, `remove`), routed to `ScriptProxy`.
enum RegistrarFunctions {
    private static let requestFailure = RouteKindSet([.request, .failure])

    /// The functions that read or write the location service: async-capable (the host runs them, with
    /// their database work, under `async()`, and also plainly in a usrloc database mode).
    static let usrlocNames: Set<String> = ["save", "lookup", "is_registered", "registered"]

    /// True when usrloc keeps contacts in a database (`working_mode_preset` other than
    /// `single-instance-no-db`, or `db_mode` other than 0): the registrar calls then run on the host,
    /// and called plainly in a request or failure route they suspend transparently while the database works.
    static func usesDatabase(_ config: ScriptConfig) -> Bool {
        let preset: String? = config.modparam("usrloc", "working_mode_preset").map { value in
            switch value {
            case .int(let v): return String(v)
            case .string(let s), .word(let s): return s
            }
        }
        let dbMode = config.modparam("usrloc", "db_mode")?.intValue ?? 0
        return (preset != nil && preset != "single-instance-no-db") || dbMode != 0
    }

    static let specs: [FunctionSpec] = [
        FunctionSpec("append_branch", args: [.string, .any], min: 0, routes: requestFailure, binder: { _, _, args in
            let uri = args.value(0), q = args.value(1)
            let count = args.count
            return { ctx in
                let u = count > 0 ? uri(&ctx) : .null
                let qv = count > 1 ? q(&ctx) : .null
                return ctx.proxy.appendBranch(uri: u.isNull || u.stringValue.isEmpty ? nil : u.stringValue,
                                              q: qv.isNull ? nil : qv.stringValue)
            }
        }),
        FunctionSpec("save", modules: ["registrar"], args: [.string, .string, .string], min: 1, async: true,
                     routes: RouteKindSet([.request]), transparentIf: usesDatabase, binder: { _, _, args in
            let domain = args.value(0), flags = args.value(1), aor = args.value(2)
            let count = args.count
            return { ctx in
                let d = domain(&ctx).stringValue
                let f = count > 1 ? flags(&ctx).stringValue : ""
                let a = count > 2 ? aor(&ctx) : .null
                return ctx.proxy.registrarSave(domain: d, flags: f, aor: a.isNull ? nil : a.stringValue)
            }
        }),
        FunctionSpec("lookup", modules: ["registrar"], args: [.string, .string, .string], min: 1, async: true,
                     routes: requestFailure, transparentIf: usesDatabase, binder: { _, _, args in
            let domain = args.value(0), flags = args.value(1), aor = args.value(2)
            let count = args.count
            return { ctx in
                let d = domain(&ctx).stringValue
                let f = count > 1 ? flags(&ctx).stringValue : ""
                let a = count > 2 ? aor(&ctx) : .null
                return ctx.proxy.registrarLookup(domain: d, flags: f, aor: a.isNull ? nil : a.stringValue)
            }
        }),
        // reg_fetch_contacts(domain, uri, profile): the compiler appends the slot of each $ulc attribute's
        // hidden AVP (UlcProfile.attributes order) after the three arguments.
        FunctionSpec("reg_fetch_contacts", modules: ["registrar"], args: [.string, .string, .string],
                     routes: requestFailure, binder: { _, _, args in
            let domain = args.value(0), uri = args.value(1)
            let slots = (3..<args.count).compactMap { args.constant($0)?.intValue }
            return { ctx in
                let found = ctx.proxy.registrarContacts(domain: domain(&ctx).stringValue, uri: uri(&ctx).stringValue)
                let contacts = found?.contacts ?? []
                for (attr, slot) in zip(UlcProfile.attributes, slots) {
                    ctx.avps.removeAll(slot: slot)
                    switch attr {
                    case "aor": if let found { ctx.avps.push(slot: slot, .string(found.aor)) }
                    case "count": ctx.avps.push(slot: slot, .int(contacts.count))
                    default:
                        // Pushed last to first, so that index 0 is the best contact.
                        for contact in contacts.reversed() { ctx.avps.push(slot: slot, contact[attr] ?? .null) }
                    }
                }
                return contacts.isEmpty ? -1 : 1
            }
        }),
        registeredSpec("is_registered"),
        registeredSpec("registered"),
        FunctionSpec("remove", modules: ["registrar"], args: [.string, .string, .string], min: 2,
                     routes: requestFailure, binder: { _, _, args in
            let domain = args.value(0), aor = args.value(1), contact = args.value(2)
            let count = args.count
            return { ctx in
                let c = count > 2 ? contact(&ctx) : .null
                return ctx.proxy.registrarRemove(domain: domain(&ctx).stringValue, aor: aor(&ctx).stringValue,
                                                 contact: c.isNull ? nil : c.stringValue)
            }
        }),
    ]

    private static func registeredSpec(_ name: String) -> FunctionSpec {
        FunctionSpec(name, modules: ["registrar"], args: [.string, .string], min: 1, async: true, routes: requestFailure,
                     transparentIf: usesDatabase,
                     binder: { _, _, args in
            let domain = args.value(0), aor = args.value(1)
            let count = args.count
            return { ctx in
                let a = count > 1 ? aor(&ctx) : .null
                return ctx.proxy.registrarIsRegistered(domain: domain(&ctx).stringValue,
                                                       aor: a.isNull ? nil : a.stringValue)
            }
        })
    }
}
