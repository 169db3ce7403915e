import Testing
@testable import Transport

/// The wheel's memory follows what is filed: a burst of deadlines costs its entries while
/// they wait and nothing once they fired (loadtest/README.md, "Bare idle connection under
/// jemalloc": kept, every slot came to hold a burst's worth).
struct TimerWheelTests {
    @Test func aFiredBurstGivesItsSlotBack() {
        var wheel = TimerWheel(now: 0)
        let tick = TimerWheel.tick(of: 1_000)
        for token in 1...10_000 as ClosedRange<UInt64> { _ = wheel.file(token, atTick: tick) }
        #expect(wheel.entryCount == 10_000)
        #expect(wheel.reservedEntries >= 10_000, "the burst's entries are held while they wait")
        var due: [(token: UInt64, tick: Int64)] = []
        wheel.advance(to: tick * TimerWheel.tickMilliseconds, into: &due)
        #expect(due.count == 10_000 && due.allSatisfy { $0.tick == tick })
        #expect(wheel.entryCount == 0)
        #expect(wheel.reservedEntries <= TimerWheel.keptSlotCapacity * TimerWheel.slotCount)
        #expect(wheel.reservedEntries < 100)
    }

    @Test func smallSlotsKeepTheirRoomForTheNextRound() {
        var wheel = TimerWheel(now: 0)
        let tick = TimerWheel.tick(of: 640)
        for token in 1...8 as ClosedRange<UInt64> { _ = wheel.file(token, atTick: tick) }
        let reserved = wheel.reservedEntries
        var due: [(token: UInt64, tick: Int64)] = []
        wheel.advance(to: 640, into: &due)
        #expect(due.map(\.token) == Array(1...8))
        #expect(wheel.reservedEntries == reserved)
    }
}
