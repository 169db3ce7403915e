import Presence

/// The members of one client message, read field by field with the protocol's checks.
///
/// Each accessor consumes its field, so once the op has read everything it defines,
/// `rejectUnknown()` finds the first member nobody asked for. Checks run in the order the
/// op reads its fields, then unknown fields: the first problem is the one reported.
struct MessageFields {
    private let members: [(key: String, value: JSONValue)]
    /// Which members were asked for, by position: bit k for member k below 64, the rest in
    /// `consumedBeyond64` (an op defines a handful of fields, so that array is only made
    /// for messages `rejectUnknown` refuses anyway). A `Set<String>` of names cost more
    /// than the rest of decoding an op.
    private var consumed: UInt64 = 0
    private var consumedBeyond64: [Bool] = []

    init(_ members: [(key: String, value: JSONValue)]) {
        self.members = members
    }

    /// The raw value of `name`, consumed; `nil` when absent.
    mutating func value(_ name: String) -> JSONValue? {
        guard let k = members.firstIndex(where: { $0.key == name }) else { return nil }
        if k < 64 {
            consumed |= 1 << UInt64(k)
        } else {
            if consumedBeyond64.isEmpty { consumedBeyond64 = Array(repeating: false, count: members.count - 64) }
            consumedBeyond64[k - 64] = true
        }
        return members[k].value
    }

    private func isConsumed(_ k: Int) -> Bool {
        k < 64 ? consumed & (1 << UInt64(k)) != 0 : !consumedBeyond64.isEmpty && consumedBeyond64[k - 64]
    }

    /// Whether the message has a member `name` (without consuming it).
    func contains(_ name: String) -> Bool { members.contains(where: { $0.key == name }) }

    mutating func requiredString(_ name: String, maxBytes: Int, allowsEmpty: Bool = false) throws(WireError) -> String {
        guard let text = try optionalString(name, maxBytes: maxBytes, allowsEmpty: allowsEmpty) else {
            throw .missingField(name)
        }
        return text
    }

    mutating func optionalString(_ name: String, maxBytes: Int, allowsEmpty: Bool = false) throws(WireError) -> String? {
        guard let value = value(name) else { return nil }
        guard case .string(let text) = value else { throw .wrongType(field: name, expected: "a string") }
        guard text.utf8.count <= maxBytes else { throw .valueTooLong(field: name, limit: maxBytes) }
        guard allowsEmpty || !text.isEmpty else { throw .invalidValue(field: name, reason: "must not be empty") }
        return text
    }

    mutating func optionalBool(_ name: String) throws(WireError) -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .bool(let flag) = value else { throw .wrongType(field: name, expected: "true or false") }
        return flag
    }

    /// A non-negative integer written without fraction or exponent, within `range`.
    mutating func optionalInteger(_ name: String, in range: ClosedRange<UInt64>) throws(WireError) -> UInt64? {
        guard let value = value(name) else { return nil }
        guard case .number(let text) = value else { throw .wrongType(field: name, expected: "an integer") }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") || $0 == UInt8(ascii: "-") }) else {
            throw .wrongType(field: name, expected: "an integer")
        }
        guard let number = UInt64(text), range.contains(number) else {
            throw .invalidValue(field: name, reason: "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    mutating func requiredInteger(_ name: String, in range: ClosedRange<UInt64>) throws(WireError) -> UInt64 {
        guard let number = try optionalInteger(name, in: range) else { throw .missingField(name) }
        return number
    }

    /// A field that names a user by e-mail, normalized.
    mutating func requiredUser(_ name: String, maxBytes: Int) throws(WireError) -> UserID {
        let text = try requiredString(name, maxBytes: maxBytes)
        guard let user = UserID(email: text) else { throw .invalidEmail(field: name) }
        return user
    }

    mutating func requiredCall(_ name: String = "call") throws(WireError) -> CallID {
        CallID(try requiredInteger(name, in: 1...largestExactInteger))
    }

    /// One of `names`, mapped by `make`.
    mutating func requiredEnum<T>(_ name: String, _ names: [String], _ make: (String) -> T?) throws(WireError) -> T {
        let text = try requiredString(name, maxBytes: 64)
        guard let value = make(text) else {
            throw .invalidValue(field: name, reason: "must be one of " + names.map { "\"\($0)\"" }.joined(separator: ", "))
        }
        return value
    }

    mutating func optionalDevice(_ name: String = "device") throws(WireError) -> Presence.DeviceKind? {
        guard contains(name) else { return nil }
        return try requiredDevice(name)
    }

    mutating func requiredDevice(_ name: String = "device") throws(WireError) -> Presence.DeviceKind {
        try requiredEnum(name, Presence.DeviceKind.allCases.map(\.wireName), Presence.DeviceKind.init(wireName:))
    }

    /// A call payload: any JSON string or object, kept as its compact JSON text so it
    /// reaches the other party exactly as sent. `""` when absent and optional.
    mutating func payload(_ name: String = "payload", isRequired: Bool, maxBytes: Int) throws(WireError) -> String {
        guard let value = value(name) else {
            if isRequired { throw .missingField(name) }
            return ""
        }
        switch value {
        case .string, .object: break
        default: throw .wrongType(field: name, expected: "a string or an object")
        }
        let text = value.jsonText
        guard text.utf8.count <= maxBytes else { throw .valueTooLong(field: name, limit: maxBytes) }
        return text
    }

    /// A non-empty list of users, at most `maxCount`.
    mutating func requiredUsers(_ name: String, maxCount: Int, maxBytes: Int) throws(WireError) -> [UserID] {
        guard let value = value(name) else { throw .missingField(name) }
        guard case .array(let items) = value else { throw .wrongType(field: name, expected: "an array of e-mail addresses") }
        guard !items.isEmpty else { throw .invalidValue(field: name, reason: "must name at least one user") }
        guard items.count <= maxCount else { throw .valueTooLong(field: name, limit: maxCount) }
        var users: [UserID] = []
        users.reserveCapacity(items.count)
        for item in items {
            guard case .string(let text) = item else { throw .wrongType(field: name, expected: "an array of e-mail addresses") }
            guard text.utf8.count <= maxBytes, let user = UserID(email: text) else { throw .invalidEmail(field: name) }
            users.append(user)
        }
        return users
    }

    /// Throws `unknownField` for the first member no accessor asked for.
    func rejectUnknown() throws(WireError) {
        if let k = members.indices.first(where: { !isConsumed($0) }) { throw .unknownField(members[k].key) }
    }
}
