/// Functions executed by the host (database, REST, exec, LDAP, sleeps). Their synchronous form goes to
/// `ScriptProxy.invoke`; inside `async()` the interpreter suspends with an `AsyncRequest` instead. Those
/// marked `transparent` suspend also when called plainly, and the route continues at the call.
enum ExternalFunctions {
    static let specs: [FunctionSpec] = [
        ext("avp_db_query", ["avpops"], [.query, .variableList, .int], min: 1, async: true),
        ext("sql_query", ["sqlops", "dbops"], [.query, .variableList, .string], min: 1, async: true),
        ext("rest_get", ["rest_client"], [.string, .variable, .variable, .variable], min: 2, async: true),
        ext("rest_post", ["rest_client"], [.string, .string, .string, .variable, .variable, .variable], min: 4, async: true),
        ext("rest_put", ["rest_client"], [.string, .string, .string, .variable, .variable, .variable], min: 4, async: true),
        ext("exec", ["exec"], [.string, .string, .variable, .variable, .string], min: 1, async: true),
        ext("www_authorize", ["auth_db"], [.string, .string], async: true, transparent: true),
        ext("proxy_authorize", ["auth_db"], [.string, .string], async: true, transparent: true),
        ext("ldap_search", ["ldap"], [.query], async: true),
        ext("ldap_result", ["ldap"], [.attributeMap, .variable, .string], min: 1),
        ext("sleep", ["cfgutils"], [.int], async: true),
        ext("usleep", ["cfgutils"], [.int], async: true),
        ext("dns_query", ["tandem"], [.string, .string, .variable], min: 3, async: true),
        ext("cache_raw_query", ["cachedb_mongodb", "cachedb_local"], [.string, .query, .variableList], min: 2, async: true),
    ]

    private static func ext(_ name: String, _ modules: [String], _ args: [ArgKind], min: Int? = nil,
                            async: Bool = false, transparent: Bool = false) -> FunctionSpec {
        FunctionSpec(name, modules: modules, args: args, min: min, async: async, hostRun: true,
                     transparent: transparent, binder: nil)
    }
}
