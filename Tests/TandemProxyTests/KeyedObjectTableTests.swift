import Testing
import TandemProxy

/// An object filed under a key whose hash value is only `bucket`: keys in one bucket collide.
private final class Filed: KeyedObject {
    struct Key: Hashable, Sendable {
        let bucket: Int
        let name: String
        static func == (a: Key, b: Key) -> Bool { a.bucket == b.bucket && a.name == b.name }
        func hash(into hasher: inout Hasher) { hasher.combine(bucket) }
    }
    let key: Key
    init(_ bucket: Int, _ name: String) { key = Key(bucket: bucket, name: name) }
}

/// The server transaction table: objects filed by their own key, a slot per hash value (issue 19).
@Suite struct KeyedObjectTableTests {
    @Test func insertLookupRemoveWithEqualHashes() {
        let table = KeyedObjectTable<Filed>(shardCount: 4)
        let a = Filed(1, "a"), b = Filed(1, "b"), c = Filed(1, "c"), d = Filed(2, "a")
        for object in [a, b, c, d] { #expect(table.insertIfAbsent(object).inserted) }
        let again = table.insertIfAbsent(Filed(1, "b"))
        #expect(!again.inserted && again.stored === b, "the object already filed under the key stays")
        #expect(table.count == 4)
        #expect(table.lookup(a.key) === a && table.lookup(b.key) === b && table.lookup(c.key) === c)
        #expect(table.lookup(d.key) === d)
        #expect(table.lookup(Filed.Key(bucket: 1, name: "z")) == nil)
        #expect(table.remove(b.key) === b)
        #expect(table.remove(b.key) == nil)
        #expect(table.lookup(a.key) === a && table.lookup(c.key) === c && table.lookup(b.key) == nil)
        #expect(table.count == 3)
        #expect(table.remove(a.key) === a && table.remove(c.key) === c)
        #expect(table.lookup(c.key) == nil && table.count == 1)
        #expect(table.insertIfAbsent(b).inserted && table.lookup(b.key) === b && table.count == 2)
    }

    @Test("A table that drops far below its peak gives its storage back (100,000 objects, then 10)")
    func shrinksAfterAFlood() {
        let table = KeyedObjectTable<Filed>(shardCount: 4)
        let objects = (0..<100_000).map { Filed($0, "") }
        for object in objects { table.insertIfAbsent(object) }
        let peak = table.capacity
        #expect(peak >= 100_000 && table.count == 100_000)
        for object in objects[10...] { table.remove(object.key) }
        #expect(table.count == 10)
        #expect(table.capacity < 1_000, "capacity \(table.capacity) after a peak of \(peak)")
        for object in objects[..<10] { #expect(table.lookup(object.key) === object) }
    }
}
