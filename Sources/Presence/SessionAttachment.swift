/// What the gateway keeps with a session in the core's one session table: opaque to the
/// core, which only carries it (into each `Delivery` and `Effect.close`) so the gateway
/// needs no second table keyed by session. 32 bytes, no heap.
public struct SessionAttachment: Hashable, Sendable {
    /// The connection holding the session (the gateway's packed connection ID); 0 while
    /// it has none (in its grace period).
    public var connection: UInt64
    /// The resume token's secret, 128 bits, inline.
    public var secretHigh: UInt64
    public var secretLow: UInt64
    /// The storage row of the device token the session signed in with ("stay signed
    /// in"), for `logOut` and `changePassword`; 0 for none.
    public var deviceTokenID: Int64

    /// Creates an attachment.
    public init(connection: UInt64, secretHigh: UInt64 = 0, secretLow: UInt64 = 0, deviceTokenID: Int64 = 0) {
        self.connection = connection
        self.secretHigh = secretHigh
        self.secretLow = secretLow
        self.deviceTokenID = deviceTokenID
    }

    /// Nothing attached (the core's own tests).
    public static let none = SessionAttachment(connection: 0)
}
