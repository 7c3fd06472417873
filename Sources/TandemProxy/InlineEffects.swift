/// Up to four effects of one transaction event, stored inline: the packet path collects a machine's
/// effects without a heap allocation (a machine never emits more than four per event).
struct InlineEffects<Element>: Sequence {
    private var slots: (Element?, Element?, Element?, Element?) = (nil, nil, nil, nil)
    private var count = 0

    init() {}

    mutating func append(_ element: Element) {
        switch count {
        case 0: slots.0 = element
        case 1: slots.1 = element
        case 2: slots.2 = element
        case 3: slots.3 = element
        default: preconditionFailure("more than four effects for one transaction event")
        }
        count += 1
    }

    func makeIterator() -> Iterator { Iterator(buffer: self) }

    struct Iterator: IteratorProtocol {
        let buffer: InlineEffects
        var index = 0

        mutating func next() -> Element? {
            defer { index += 1 }
            guard index < buffer.count else { return nil }
            switch index {
            case 0: return buffer.slots.0
            case 1: return buffer.slots.1
            case 2: return buffer.slots.2
            default: return buffer.slots.3
            }
        }
    }
}
