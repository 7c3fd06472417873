/// cache_store / cache_fetch / cache_remove over the shared `LocalCache`.
enum CacheFunctions {
    private static let modules = ["cachedb_local", "cachedb_mongodb"]

    static let specs: [FunctionSpec] = [
        FunctionSpec("cache_store", modules: modules, args: [.string, .string, .string, .int], min: 3,
                     binder: { _, _, args in
            let coll = args.value(0), key = args.value(1), value = args.value(2)
            let exp: ValueFn? = args.count > 3 ? args.value(3) : nil
            return { ctx in
                let c = coll(&ctx).stringValue, k = key(&ctx).stringValue, v = value(&ctx).stringValue
                let e = exp.map { $0(&ctx).intValue ?? 0 } ?? 0
                ctx.cache.store(collection: c, key: k, value: v, expire: e)
                return 1
            }
        }),
        FunctionSpec("cache_fetch", modules: modules, args: [.string, .string, .variable], binder: { _, _, args in
            let coll = args.value(0), key = args.value(1)
            let out = args.variable(2)
            return { ctx in
                let c = coll(&ctx).stringValue, k = key(&ctx).stringValue
                guard let v = ctx.cache.fetch(collection: c, key: k) else { return -2 }
                out?.assign(&ctx, .string(v))
                return 1
            }
        }),
        FunctionSpec("cache_remove", modules: modules, args: [.string, .string], binder: { _, _, args in
            let coll = args.value(0), key = args.value(1)
            return { ctx in
                let c = coll(&ctx).stringValue, k = key(&ctx).stringValue
                ctx.cache.remove(collection: c, key: k)
                return 1
            }
        }),
    ]
}
