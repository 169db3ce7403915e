import CPosix

// The fan-out path: one shared body to many connections of this loop (`LoopTask.deliver`).
//
// Under fan-out load a loop iteration queues ~200,000 deliveries for ~9,000 connections, so
// nearly every delivery finds its recipient's `Connection` and the end of its outbound buffer
// out of the cache: the loop waited on two to four misses per delivery, one after the other
// (~12% of the pinned server's time, loadtest/README.md, "Pinned fan-out, 3 December (second
// session)"). The recipients are known in advance, so the loop asks for those lines a few
// recipients ahead and the misses overlap.

extension EventLoop {
    /// How many recipients ahead the loop starts loading a recipient's `Connection`; the
    /// header of its outbound buffer is loaded at half that distance, the buffer's end at a
    /// quarter (each needs the line the step before loaded).
    static let deliveryLookahead = 8

    /// Sends `prefix(tag) + body` as one text message to each recipient; those not of this
    /// loop, gone, or not an open WebSocket are skipped.
    func deliver(body: UnsafeRawBufferPointer, to recipients: [(ConnectionID, UInt64)], prefix: Prefixer) {
        let far = Self.deliveryLookahead, middle = far / 2, near = far / 4
        // The table's bytes are borrowed for the whole list: nothing below opens or closes
        // a connection.
        connections.withUnsafeBytes { table in
            recipients.withUnsafeBufferPointer { list in
                let n = list.count
                for k in 0..<n {
                    if k + far < n, let object = Self.object(of: list[k + far].0, in: table) {
                        // The fields a delivery reads sit in the first 32 bytes after the header.
                        cposix_prefetch_write(object)
                        cposix_prefetch_write(object + 47)
                    }
                    if k + middle < n, let object = Self.object(of: list[k + middle].0, in: table) {
                        outbound.prefetchHeader(ofBuffer: Self.queueHead(of: object))
                    }
                    if k + near < n, let object = Self.object(of: list[k + near].0, in: table) {
                        outbound.prefetchEnd(ofBuffer: Self.queueHead(of: object))
                    }
                    let (id, tag) = list[k]
                    guard id.loop == index, let object = Self.object(of: id, in: table) else { continue }
                    // Borrowed, not retained: the table holds the connection for this whole call.
                    Unmanaged<Connection>.fromOpaque(object)._withUnsafeGuaranteedRef { conn in
                        guard conn.generation == id.generation, conn.state == .open else { return }
                        queueText(conn, tag: tag, prefix: prefix, body: body)
                    }
                }
            }
        }
    }

    /// The address of the `Connection` at `id`'s descriptor in the loop's table (of whatever
    /// generation), or nil. `[Connection?]` stores one nullable object pointer per element.
    @inline(__always)
    static func object(of id: ConnectionID, in table: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer? {
        let fd = Int(id.fd)
        guard fd >= 0, fd < table.count / MemoryLayout<Connection?>.stride else { return nil }
        return table.load(fromByteOffset: fd &* MemoryLayout<Connection?>.stride, as: UnsafeMutableRawPointer?.self)
    }

    @inline(__always)
    static func queueHead(of object: UnsafeMutableRawPointer) -> Int32 {
        Unmanaged<Connection>.fromOpaque(object)._withUnsafeGuaranteedRef { $0.queueHead }
    }
}
