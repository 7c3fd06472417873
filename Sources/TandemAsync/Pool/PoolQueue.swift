/// The FIFO wait queue of a pool: amortised O(1) append and pop (a head index into one array, compacted
/// when half of it is consumed), push-front for a retried request, removal by predicate for a cancel.
/// A popped slot is cleared at once, so a finished request (and what its completion captures) is not
/// kept alive by the queue.
struct PoolQueue<Element> {
    private var storage: [Element?] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    /// Puts `element` first in line.
    mutating func prepend(_ element: Element) {
        if head > 0 {
            head -= 1
            storage[head] = element
        } else {
            storage.insert(element, at: 0)
        }
    }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head].take()
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Removes the first element matching `predicate`; returns whether one was found.
    @discardableResult
    mutating func remove(where predicate: (Element) -> Bool) -> Bool {
        guard let index = storage[head...].firstIndex(where: { $0.map(predicate) ?? false }) else { return false }
        storage.remove(at: index)
        return true
    }
}

extension PoolQueue: Sendable where Element: Sendable {}
