import Presence

// The numbers on the wire for every case. They are written out here rather than taken
// from Swift (`rawValue`, declaration order) so that reordering or adding a case in
// Sources/Presence cannot silently change what other nodes read: nodes of two versions
// share a cluster during an upgrade. Protocol/cluster.md lists the same tables, and
// `ClusterWireTests` pins them with golden bytes. Tags start at 1, so a zeroed buffer is
// never a message.

/// The first byte of every encoded `ShardMessage`.
enum MessageTag: UInt8 {
    case published = 1
    case deliverToUser = 2
    case deliverToSession = 3
    case chat = 4
    case pairRequest = 5
    case pairSet = 6
    case introduce = 7
    case watch = 8
    case accountDeleted = 9
    case callInvite = 10
    case callBusy = 11
    case callOffered = 12
    case callAnswered = 13
    case callSilenced = 14
    case callFinished = 15
}

/// The first byte of every encoded `Event`.
enum EventTag: UInt8 {
    case snapshot = 1
    case ownStatus = 2
    case presence = 3
    case contactRequestReceived = 4
    case contactRequestSent = 5
    case contactAdded = 6
    case contactRemoved = 7
    case chat = 8
    case chatAccepted = 9
    case chatFailed = 10
    case callIncoming = 11
    case callRinging = 12
    case callAccepted = 13
    case callAnsweredElsewhere = 14
    case callSignal = 15
    case callEnded = 16
    case subscriptionSnapshot = 17
    case subscriptionEnded = 18
}

/// The first byte of every encoded `Command` (edge → home, inside a `HomeMessage.op`).
/// Only the commands an edge forwards have a tag: storage outcomes (`messageCommitted`,
/// `messageFailed`), a restart's `restoreShown` and `fromShard` never leave their process
/// this way, so no bytes decode to one of them.
enum CommandTag: UInt8 {
    case signIn = 1
    case signInSubscriber = 2
    case signOut = 3
    case connectionLost = 4
    case resume = 5
    case heartbeat = 6
    case activity = 7
    case setStatus = 8
    case requestContact = 9
    case acceptContact = 10
    case declineContact = 11
    case removeContact = 12
    case send = 13
    case invite = 14
    case ringing = 15
    case accept = 16
    case decline = 17
    case cancel = 18
    case hangUp = 19
    case signal = 20
    case subscribe = 21
    case unsubscribe = 22
    case changeProfile = 23
    case deleteAccount = 24
}

/// The first byte of every encoded `HomeMessage` (edge → home).
enum HomeMessageTag: UInt8 {
    case op = 1
}

/// The first byte of every encoded `EdgeMessage` (home → edge).
enum EdgeMessageTag: UInt8 {
    case deliver = 1
    case reply = 2
    case close = 3
    case attach = 4
    case signInRefused = 5
}

/// One byte per value of the core's small enumerations, both ways.
enum WireValue {
    static func byte(for status: PresenceStatus) -> UInt8 {
        switch status {
        case .offline: 0
        case .idle: 1
        case .mobile: 2
        case .online: 3
        case .busy: 4
        }
    }

    static func presenceStatus(_ byte: UInt8) -> PresenceStatus? {
        switch byte {
        case 0: .offline
        case 1: .idle
        case 2: .mobile
        case 3: .online
        case 4: .busy
        default: nil
        }
    }

    static func byte(for status: ChosenStatus) -> UInt8 {
        switch status {
        case .online: 0
        case .busy: 1
        case .hidden: 2
        }
    }

    static func chosenStatus(_ byte: UInt8) -> ChosenStatus? {
        switch byte {
        case 0: .online
        case 1: .busy
        case 2: .hidden
        default: nil
        }
    }

    static func byte(for state: ContactState) -> UInt8 {
        switch state {
        case .accepted: 0
        case .requestedByMe: 1
        case .requestedByThem: 2
        }
    }

    static func contactState(_ byte: UInt8) -> ContactState? {
        switch byte {
        case 0: .accepted
        case 1: .requestedByMe
        case 2: .requestedByThem
        default: nil
        }
    }

    static func byte(for change: PairChange) -> UInt8 {
        switch change {
        case .request: 0
        case .accept: 1
        case .decline: 2
        case .remove: 3
        }
    }

    static func pairChange(_ byte: UInt8) -> PairChange? {
        switch byte {
        case 0: .request
        case 1: .accept
        case 2: .decline
        case 3: .remove
        default: nil
        }
    }

    static func byte(for reason: CallEndReason) -> UInt8 {
        switch reason {
        case .declined: 0
        case .cancelled: 1
        case .noAnswer: 2
        case .busy: 3
        case .hungUp: 4
        case .connectionLost: 5
        case .contactRemoved: 6
        }
    }

    static func callEndReason(_ byte: UInt8) -> CallEndReason? {
        switch byte {
        case 0: .declined
        case 1: .cancelled
        case 2: .noAnswer
        case 3: .busy
        case 4: .hungUp
        case 5: .connectionLost
        case 6: .contactRemoved
        default: nil
        }
    }

    static func byte(for device: DeviceKind) -> UInt8 {
        switch device {
        case .desktop: 0
        case .mobile: 1
        case .web: 2
        }
    }

    static func deviceKind(_ byte: UInt8) -> DeviceKind? {
        switch byte {
        case 0: .desktop
        case 1: .mobile
        case 2: .web
        default: nil
        }
    }

    static func byte(for receipt: DeliveryReceipt) -> UInt8 {
        switch receipt {
        case .delivered: 0
        case .stored: 1
        }
    }

    static func deliveryReceipt(_ byte: UInt8) -> DeliveryReceipt? {
        switch byte {
        case 0: .delivered
        case 1: .stored
        default: nil
        }
    }
}

extension WireReader {
    /// One enumeration byte, through `decode`; a byte it does not know throws.
    mutating func value<T>(_ decode: (UInt8) -> T?) throws(ClusterWireError) -> T {
        let at = offset
        let raw = try byte()
        guard let value = decode(raw) else { throw .invalidValue(raw, offset: at) }
        return value
    }

    mutating func presenceStatus() throws(ClusterWireError) -> PresenceStatus {
        try value(WireValue.presenceStatus)
    }
}
