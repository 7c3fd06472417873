import Testing
import TandemScript

@Suite struct UniqueRandomTests {
    @Test("UniqueRandom: 100,000 values from 4 threads, all different; nonces stay 48 characters")
    func distinct() async {
        let batches = await withTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<4 { group.addTask { (0..<25_000).map { _ in UniqueRandom.next() } } }
            var all: [[UInt64]] = []
            for await batch in group { all.append(batch) }
            return all
        }
        let values = batches.flatMap { $0 }
        #expect(values.count == 100_000)
        #expect(Set(values).count == values.count)
        let salts = await withTaskGroup(of: [UInt32].self) { group in
            for _ in 0..<4 { group.addTask { (0..<25_000).map { _ in UniqueRandom.next32() } } }
            var all: [UInt32] = []
            for await batch in group { all += batch }
            return all
        }
        #expect(Set(salts).count == 100_000)  // 32 random bits would collide here (birthday bound)
        #expect(DigestAuth.makeNonce(secret: "s", expires: 1).utf8.count == 48)
        #expect(DigestAuth.makeNonce(secret: "s", expires: 1) != DigestAuth.makeNonce(secret: "s", expires: 1))
    }
}
