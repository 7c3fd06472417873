/// A fixed-capacity (four slots), inline, allocation-free list of actions
/// returned by a transaction machine's `handle(_:)`.
///
/// Actions are ordered: transport sends first, then timer commands, then
/// notifications to the TU, and `terminated` (if present) last.
public struct TransactionActions<Action>: RandomAccessCollection {
    /// Maximum number of actions one event can produce.
    public static var capacity: Int { 4 }

    @usableFromInline var slots: (Action?, Action?, Action?, Action?)
    @usableFromInline var storedCount: UInt8

    /// An empty list.
    @inlinable
    public init() {
        slots = (nil, nil, nil, nil)
        storedCount = 0
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { Int(storedCount) }
    @inlinable public var count: Int { Int(storedCount) }
    @inlinable public var isEmpty: Bool { storedCount == 0 }

    @inlinable
    public subscript(position: Int) -> Action {
        precondition(position >= 0 && position < Int(storedCount), "TransactionActions index out of range")
        switch position {
        case 0: return slots.0.unsafelyUnwrapped
        case 1: return slots.1.unsafelyUnwrapped
        case 2: return slots.2.unsafelyUnwrapped
        default: return slots.3.unsafelyUnwrapped
        }
    }

    /// Appends `action`; traps if the list is full (a programming error in a machine).
    @inlinable
    public mutating func append(_ action: Action) {
        switch storedCount {
        case 0: slots.0 = action
        case 1: slots.1 = action
        case 2: slots.2 = action
        case 3: slots.3 = action
        default: preconditionFailure("TransactionActions capacity exceeded")
        }
        storedCount &+= 1
    }
}

extension TransactionActions: ExpressibleByArrayLiteral {
    /// Builds a list from up to four actions (handy in tests).
    @inlinable
    public init(arrayLiteral elements: Action...) {
        self.init()
        for element in elements { append(element) }
    }
}

extension TransactionActions: Sendable where Action: Sendable {}

extension TransactionActions: Equatable where Action: Equatable {
    @inlinable
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.elementsEqual(rhs)
    }
}

extension TransactionActions: Hashable where Action: Hashable {
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(storedCount)
        for action in self { hasher.combine(action) }
    }
}

extension TransactionActions: CustomStringConvertible {
    public var description: String {
        var text = "["
        for (index, action) in self.enumerated() {
            if index > 0 { text += ", " }
            text += String(describing: action)
        }
        return text + "]"
    }
}
