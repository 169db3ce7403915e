/// The client message IDs one sender used recently, so that a retried `send` (after a
/// timeout or a reconnect) is neither stored nor delivered twice.
///
/// Bounded FIFO: after `capacity` newer IDs an old one is forgotten. Storage should keep
/// (sender, client message ID) unique as the durable backstop.
struct SendWindow: Sendable {
    enum State: Hashable, Sendable {
        /// Handed to storage; the ack follows the commit.
        case pending(MessageTicket)
        /// Committed and acked; a retry gets the same ack again.
        case committed(ChatAck)
    }

    private var states: [String: State] = [:]
    private var order: [String] = []
    private var oldest = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    subscript(clientMessageID: String) -> State? {
        states[clientMessageID]
    }

    mutating func record(_ clientMessageID: String, _ state: State) {
        if states[clientMessageID] == nil {
            if order.count < capacity {
                order.append(clientMessageID)
            } else {
                states[order[oldest]] = nil
                order[oldest] = clientMessageID
                oldest = (oldest + 1) % capacity
            }
        }
        states[clientMessageID] = state
    }

    /// Forgets a failed send so that the retry is stored.
    mutating func forget(_ clientMessageID: String) {
        states[clientMessageID] = nil
    }
}
