import Presence
import Testing

/// The combination order as a table; `Protocol/presence-rules.md` shows the same rows.
struct PresenceRulesTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var chosen: ChosenStatus
        var isInCall: Bool
        var sessions: [PresenceRules.SessionState]
        var contactsSee: PresenceStatus
        var testDescription: String { "\(chosen) call=\(isInCall) \(sessions.map { "\($0.device)\($0.isIdle ? "/idle" : "")" }) -> \(contactsSee)" }
    }

    static let desktop = PresenceRules.SessionState(device: .desktop)
    static let web = PresenceRules.SessionState(device: .web)
    static let mobile = PresenceRules.SessionState(device: .mobile)
    static let idleDesktop = PresenceRules.SessionState(device: .desktop, isIdle: true)
    static let idleMobile = PresenceRules.SessionState(device: .mobile, isIdle: true)

    static let table: [Row] = [
        // No session: offline, whatever was chosen.
        Row(chosen: .online, isInCall: false, sessions: [], contactsSee: .offline),
        Row(chosen: .busy, isInCall: false, sessions: [], contactsSee: .offline),
        Row(chosen: .hidden, isInCall: false, sessions: [], contactsSee: .offline),
        // One device.
        Row(chosen: .online, isInCall: false, sessions: [desktop], contactsSee: .online),
        Row(chosen: .online, isInCall: false, sessions: [web], contactsSee: .online),
        Row(chosen: .online, isInCall: false, sessions: [mobile], contactsSee: .mobile),
        Row(chosen: .online, isInCall: false, sessions: [idleDesktop], contactsSee: .idle),
        Row(chosen: .online, isInCall: false, sessions: [idleMobile], contactsSee: .idle),
        // Several devices: the most available-looking wins.
        Row(chosen: .online, isInCall: false, sessions: [mobile, desktop], contactsSee: .online),
        Row(chosen: .online, isInCall: false, sessions: [mobile, idleDesktop], contactsSee: .mobile),
        Row(chosen: .online, isInCall: false, sessions: [idleMobile, desktop], contactsSee: .online),
        Row(chosen: .online, isInCall: false, sessions: [idleMobile, idleDesktop], contactsSee: .idle),
        Row(chosen: .online, isInCall: false, sessions: [mobile, mobile], contactsSee: .mobile),
        // Busy, chosen or in a call, beats everything but offline, idle included.
        Row(chosen: .busy, isInCall: false, sessions: [desktop], contactsSee: .busy),
        Row(chosen: .busy, isInCall: false, sessions: [idleDesktop], contactsSee: .busy),
        Row(chosen: .busy, isInCall: false, sessions: [mobile], contactsSee: .busy),
        Row(chosen: .online, isInCall: true, sessions: [desktop], contactsSee: .busy),
        Row(chosen: .online, isInCall: true, sessions: [idleMobile], contactsSee: .busy),
        // Hidden overrides everything.
        Row(chosen: .hidden, isInCall: false, sessions: [desktop], contactsSee: .offline),
        Row(chosen: .hidden, isInCall: false, sessions: [mobile, idleDesktop], contactsSee: .offline),
        Row(chosen: .hidden, isInCall: true, sessions: [desktop], contactsSee: .offline),
    ]

    @Test(arguments: table)
    func testCombinationOrderTable(_ row: Row) {
        #expect(PresenceRules.statusSeenByContacts(chosen: row.chosen, isInCall: row.isInCall, sessions: row.sessions)
                == row.contactsSee)
    }

    @Test func testHiddenUserRevealedToAContactShowsTheirTrueStatus() {
        let trueStatus = PresenceRules.combine(chosen: .hidden, isInCall: false, sessions: [Self.mobile])
        #expect(trueStatus == .mobile)
        #expect(PresenceRules.observed(trueStatus, isHidden: true, isRevealed: true) == .mobile)
        #expect(PresenceRules.observed(trueStatus, isHidden: true, isRevealed: false) == .offline)
    }

    @Test func testStatusOrderRunsFromOfflineToBusy() {
        #expect(PresenceStatus.allCases.sorted() == [.offline, .idle, .mobile, .online, .busy])
    }
}
