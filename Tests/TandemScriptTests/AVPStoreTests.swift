import Testing
@testable import TandemScript

/// The flat AVP store (issue 19): per-slot stacks kept interleaved in one array.
@Suite struct AVPStoreTests {
    @Test func entryFillsTheValuePadding() {
        #expect(MemoryLayout<AVPStore.Entry>.stride == MemoryLayout<ScriptValue>.stride)
    }

    @Test func emptyStoreHoldsNoValues() {
        let store = AVPStore(count: 3)
        #expect(store.entries.isEmpty)
        #expect(store.values(slot: 0) == [])
        #expect(store.value(slot: 1) == .null)
        #expect(store.value(slot: 7) == .null)
    }

    @Test func slotsStayApartWhenInterleaved() {
        var store = AVPStore(count: 3)
        store.push(slot: 0, .string("a1"))
        store.push(slot: 1, .int(1))
        store.push(slot: 0, .string("a2"))
        store.push(slot: 2, .string("c1"))
        store.push(slot: 1, .int(2))
        store.push(slot: 0, .string("a3"))
        #expect(store.values(slot: 0) == [.string("a3"), .string("a2"), .string("a1")])
        #expect(store.values(slot: 1) == [.int(2), .int(1)])
        #expect(store.values(slot: 2) == [.string("c1")])
        #expect(store.value(slot: 0) == .string("a3"))
        #expect(store.value(slot: 0, index: 1) == .string("a2"))
        #expect(store.value(slot: 0, index: 2) == .string("a1"))
        #expect(store.value(slot: 0, index: 3) == .null)
        #expect(store.value(slot: 0, index: -1) == .string("a1"))
        #expect(store.value(slot: 0, index: -3) == .string("a3"))
        #expect(store.value(slot: 0, index: -4) == .null)
        #expect(store.value(slot: 1, index: -1) == .int(1))
    }

    @Test func editsTouchOnlyTheirSlot() {
        var store = AVPStore(count: 2)
        for v in 1...3 { store.push(slot: 0, .int(v)); store.push(slot: 1, .int(10 * v)) }
        store.removeNewest(slot: 0)
        #expect(store.values(slot: 0) == [.int(2), .int(1)])
        store.set(slot: 1, index: 1, .int(99))
        #expect(store.values(slot: 1) == [.int(30), .int(99), .int(10)])
        store.set(slot: 1, index: -1, .null)
        #expect(store.values(slot: 1) == [.int(30), .int(99)])
        store.set(slot: 1, index: 5, .int(7))
        #expect(store.values(slot: 1) == [.int(30), .int(99)])
        store.removeAll(slot: 0)
        #expect(store.values(slot: 0) == [])
        #expect(store.values(slot: 1) == [.int(30), .int(99)])
        store.removeNewest(slot: 0)
        store.push(slot: 0, .string("x"))
        #expect(store.values(slot: 0) == [.string("x")])
        #expect(store.values(slot: 1) == [.int(30), .int(99)])
    }

    @Test func slotsOutsideTheDeclaredOnesAreIgnored() {
        var store = AVPStore(count: 1)
        store.push(slot: 1, .int(1))
        store.push(slot: -1, .int(1))
        #expect(store.entries.isEmpty)
        store.set(slot: 1, index: 0, .int(2))
        store.removeAll(slot: 1)
        store.removeNewest(slot: -1)
        #expect(store.values(slot: 1) == [])
    }

    @Test func resetEmptiesACopyWithoutTouchingTheOriginal() {
        var store = AVPStore(count: 2)
        store.push(slot: 1, .string("kept"))
        let suspended = store
        store.reset()
        #expect(store.entries.isEmpty)
        #expect(suspended.values(slot: 1) == [.string("kept")])
        store.push(slot: 1, .string("new"))
        #expect(suspended.values(slot: 1) == [.string("kept")])
        #expect(store.values(slot: 1) == [.string("new")])
    }
}
