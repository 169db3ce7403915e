import Foundation
import Mailboxes
import Synchronization
import XCTest

/// The one queue between threads, over real threads and its real eventfd.
final class MailboxTests: XCTestCase {
    func testAPostPastTheCapacityIsRefusedFullAndFitsAgainOnceTheConsumerTook() throws {
        let mailbox = Mailbox<Int>(capacity: 3)
        for n in 0..<3 { try mailbox.post(n) }
        XCTAssertFalse(mailbox.hasRoom)
        XCTAssertThrowsError(try mailbox.post(3)) { XCTAssertEqual($0 as? MailboxRefusal, .full) }
        XCTAssertEqual(mailbox.count, 3, "the refused message was not queued")
        var batch: [Int] = []
        mailbox.receive(into: &batch, timeoutMilliseconds: 0)
        XCTAssertEqual(batch, [0, 1, 2])
        // Positive control: the same post is taken once there is room.
        XCTAssertTrue(mailbox.hasRoom)
        try mailbox.post(3)
        batch = []
        mailbox.receive(into: &batch, timeoutMilliseconds: 0)
        XCTAssertEqual(batch, [3])
    }

    func testAnAdmittedPostPassesTheCapacity() throws {
        let mailbox = Mailbox<Int>(capacity: 1)
        try mailbox.post(0)
        XCTAssertTrue(mailbox.postAdmitted(1))
        XCTAssertEqual(mailbox.count, 2)
    }

    func testReceiveAtMostTakesTheOldestInOrder() throws {
        let mailbox = Mailbox<Int>(capacity: 10)
        for n in 0..<7 { try mailbox.post(n) }
        var taken: [[Int]] = []
        while mailbox.count > 0 {
            var batch: [Int] = []
            mailbox.receive(into: &batch, atMost: 3, timeoutMilliseconds: 0)
            taken.append(batch)
        }
        XCTAssertEqual(taken, [[0, 1, 2], [3, 4, 5], [6]])
    }

    func testCloseRefusesLaterPostsAndTheConsumerDrainsWhatWasQueuedFirst() throws {
        let mailbox = Mailbox<Int>(capacity: 10)
        try mailbox.post(1)
        try mailbox.post(2)
        mailbox.close()
        XCTAssertThrowsError(try mailbox.post(3)) { XCTAssertEqual($0 as? MailboxRefusal, .closed) }
        XCTAssertFalse(mailbox.postAdmitted(4))
        XCTAssertThrowsError(try mailbox.postWaitingForRoom(5)) { XCTAssertEqual($0 as? MailboxRefusal, .closed) }
        var batch: [Int] = []
        XCTAssertTrue(mailbox.receive(into: &batch, timeoutMilliseconds: -1), "still messages to take")
        XCTAssertEqual(batch, [1, 2])
        batch = []
        XCTAssertFalse(mailbox.receive(into: &batch, timeoutMilliseconds: -1), "closed and empty: done, without sleeping")
        XCTAssertEqual(batch, [])
    }

    func testCloseWakesAConsumerAsleepWithoutATimeout() {
        let mailbox = Mailbox<Int>(capacity: 10)
        let finished = DispatchSemaphore(value: 0)
        let result = Mutex<Bool?>(nil)
        Thread {
            var batch: [Int] = []
            let isOpen = mailbox.receive(into: &batch, timeoutMilliseconds: -1)
            result.withLock { $0 = isOpen }
            finished.signal()
        }.start()
        // Positive control: the consumer is asleep, not returning on its own.
        XCTAssertEqual(finished.wait(timeout: .now() + 0.3), .timedOut)
        mailbox.close()
        XCTAssertEqual(finished.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(result.withLock { $0 }, false)
    }

    func testAnEmptyReceiveReturnsOnlyOnceItsTimeoutPassed() throws {
        let mailbox = Mailbox<Int>(capacity: 10)
        // Leave a stale token: a post that the consumer takes without sleeping.
        var batch: [Int] = []
        mailbox.receive(into: &batch, timeoutMilliseconds: 0)
        try mailbox.post(1)
        mailbox.receive(into: &batch, timeoutMilliseconds: 0)
        XCTAssertEqual(batch, [1])
        batch = []
        let started = ContinuousClock.now
        mailbox.receive(into: &batch, timeoutMilliseconds: 200)
        XCTAssertEqual(batch, [])
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(200), "the stale token woke nothing early")
    }

    func testAPostWakesASleepingConsumer() throws {
        let mailbox = Mailbox<Int>(capacity: 10)
        let received = Mutex<[Int]>([])
        let finished = DispatchSemaphore(value: 0)
        Thread {
            var batch: [Int] = []
            mailbox.receive(into: &batch, timeoutMilliseconds: 10_000)
            received.withLock { $0 = batch }
            finished.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.1)
        try mailbox.post(42)
        XCTAssertEqual(finished.wait(timeout: .now() + 5), .success, "woken long before the 10 s timeout")
        XCTAssertEqual(received.withLock { $0 }, [42])
    }

    func testAProducerWaitingForRoomGetsInOnceTheConsumerTakes() throws {
        let mailbox = Mailbox<Int>(capacity: 1)
        try mailbox.post(0)
        let posted = DispatchSemaphore(value: 0)
        Thread {
            try? mailbox.postWaitingForRoom(1)
            posted.signal()
        }.start()
        XCTAssertEqual(posted.wait(timeout: .now() + 0.2), .timedOut, "it waits while full")
        var batch: [Int] = []
        mailbox.receive(into: &batch, timeoutMilliseconds: 0)
        XCTAssertEqual(batch, [0])
        XCTAssertEqual(posted.wait(timeout: .now() + 5), .success)
        batch = []
        mailbox.receive(into: &batch, timeoutMilliseconds: 1_000)
        XCTAssertEqual(batch, [1])
    }

    /// Eight producers race one consumer that takes a few at a time: every message arrives
    /// once, and each producer's messages in the order it posted them.
    func testConcurrentProducersLoseNothingAndKeepEachProducersOrder() {
        let producers = 8, perProducer = 5_000
        let mailbox = Mailbox<(producer: Int, n: Int)>(capacity: 64)
        let refusals = Atomic<Int>(0)
        for p in 0..<producers {
            Thread {
                for n in 0..<perProducer {
                    // Retried on `.full`: the refusals are counted to show the bound was hit.
                    while true {
                        do {
                            try mailbox.post((p, n))
                            break
                        } catch {
                            refusals.add(1, ordering: .relaxed)
                            usleep(50)
                        }
                    }
                }
            }.start()
        }
        var next = Array(repeating: 0, count: producers)
        var received = 0, outOfOrder = 0
        var batch: [(producer: Int, n: Int)] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while received < producers * perProducer, ContinuousClock.now < deadline {
            batch.removeAll(keepingCapacity: true)
            mailbox.receive(into: &batch, atMost: 16, timeoutMilliseconds: 1_000)
            XCTAssertLessThanOrEqual(batch.count, 16)
            for m in batch {
                if m.n != next[m.producer] { outOfOrder += 1 }
                next[m.producer] = m.n + 1
                received += 1
            }
        }
        XCTAssertEqual(received, producers * perProducer)
        XCTAssertEqual(outOfOrder, 0)
        XCTAssertEqual(next, Array(repeating: perProducer, count: producers))
        print("Mailbox: \(producers * perProducer) messages through capacity 64, \(refusals.load(ordering: .relaxed)) refusals retried")
    }
}
