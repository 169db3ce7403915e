import Presence
import Testing

struct CallTests {
    /// a and b are contacts of each other and of the watcher w.
    static func threeFriends(_ configuration: PresenceConfiguration = immediate, bChosen: ChosenStatus = .online)
        throws -> (World, a: SessionID, b: SessionID, w: SessionID) {
        var world = World(configuration)
        let w = try world.signIn("w@x.io", 9, contacts: ["a@x.io", "b@x.io"])
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io", "w@x.io"])
        let b = try world.signIn("b@x.io", 2, chosen: bChosen, contacts: ["a@x.io", "w@x.io"])
        return (world, a, b, w)
    }

    @Test func testBothPartiesAreBusyDuringACallAndGetTheirChoiceBackAfter() throws {
        var (world, a, b, w) = try Self.threeFriends()
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(1), payload: "offer"))
        #expect(world.events(to: b, in: world.last) == [.callIncoming(CallID(1), from: user("a@x.io"), payload: "offer")])
        try world.run(.ringing(b, CallID(1)))
        #expect(world.events(to: a, in: world.last) == [.callRinging(CallID(1))])
        #expect(world.presence(of: "a@x.io", seenBy: w) == [.online])  // ringing is not busy
        try world.run(.accept(b, CallID(1), payload: "answer"))
        #expect(world.events(to: a, in: world.last).first == .callAccepted(CallID(1), payload: "answer"))
        try world.run(.signal(a, CallID(1), payload: "ice-1"))
        #expect(world.events(to: b, in: world.last) == [.callSignal(CallID(1), payload: "ice-1")])
        #expect(world.presence(of: "a@x.io", seenBy: w) == [.online, .busy])
        #expect(world.presence(of: "b@x.io", seenBy: w) == [.online, .busy])
        world.wait(.seconds(3_600))  // idle does not beat busy
        #expect(world.presence(of: "a@x.io", seenBy: w) == [.online, .busy])
        try world.run(.hangUp(b, CallID(1)))
        #expect(world.events(to: a, in: world.last).first == .callEnded(CallID(1), .hungUp))
        #expect(world.presence(of: "a@x.io", seenBy: w) == [.online, .busy, .idle])
        #expect(world.presence(of: "b@x.io", seenBy: w) == [.online, .busy, .online])
    }

    @Test func testChosenBusyComesBackAfterTheCall() throws {
        var (world, a, b, w) = try Self.threeFriends(bChosen: .busy)
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(1), payload: ""))
        try world.run(.accept(b, CallID(1), payload: ""))
        try world.run(.hangUp(a, CallID(1)))
        #expect(world.presence(of: "b@x.io", seenBy: w) == [.busy])
    }

    @Test func testCallRingsOnEveryDeviceAndAnsweringStopsTheOthers() throws {
        var (world, a, b, _) = try Self.threeFriends()
        let bPhone = try world.signIn("b@x.io", 3, device: .mobile, contacts: ["a@x.io"])
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(1), payload: "offer"))
        #expect(world.events(to: b, in: world.last) == world.events(to: bPhone, in: world.last))
        try world.run(.accept(bPhone, CallID(1), payload: "answer"))
        #expect(world.events(to: b, in: world.last).first == .callAnsweredElsewhere(CallID(1)))
        #expect(world.refusal(.accept(b, CallID(1), payload: "")) == .callStateMismatch)
    }

    @Test func testRingTimeoutBecomesAMissedCall() throws {
        var (world, a, b, _) = try Self.threeFriends()
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(1), payload: ""))
        world.wait(.seconds(45))
        #expect(world.events(to: a, in: world.last) == [.callEnded(CallID(1), .noAnswer)])
        #expect(world.events(to: b, in: world.last) == [.callEnded(CallID(1), .noAnswer)])
        #expect(world.sideEffects(in: world.last) == [.persistMissedCall(MissedCall(call: CallID(1), caller: user("a@x.io"), callee: user("b@x.io"), at: world.time))])
    }

    @Test func testVisibleCalleeDeclines() throws {
        var (world, a, b, _) = try Self.threeFriends()
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(1), payload: ""))
        try world.run(.decline(b, CallID(1)))
        #expect(world.events(to: a, in: world.last) == [.callEnded(CallID(1), .declined)])
        #expect(world.sideEffects(in: world.last) == [])
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(2), payload: ""))  // free again
    }

    @Test func testCallerCancelsAndTheCalleeHasAMissedCall() throws {
        var (world, a, b, _) = try Self.threeFriends()
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(1), payload: ""))
        try world.run(.cancel(a, CallID(1)))
        #expect(world.events(to: b, in: world.last) == [.callEnded(CallID(1), .cancelled)])
        #expect(world.sideEffects(in: world.last).count == 1)
        #expect(world.refusal(.cancel(a, CallID(1))) == .unknownCall)
    }

    @Test func testVisibleCalleeInAnotherCallIsBusy() throws {
        var (world, a, b, w) = try Self.threeFriends()
        try world.run(.invite(w, callee: user("b@x.io"), call: CallID(1), payload: ""))
        try world.run(.accept(b, CallID(1), payload: ""))
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(2), payload: ""))
        #expect(world.events(to: a, in: world.last) == [.callEnded(CallID(2), .busy)])
        #expect(world.refusal(.invite(b, callee: user("a@x.io"), call: CallID(3), payload: "")) == .alreadyInCall)
    }

    @Test func testLostConnectionEndsTheCallWhenGraceExpiresSoNobodyStaysBusy() throws {
        var (world, a, b, w) = try Self.threeFriends()
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(1), payload: ""))
        try world.run(.accept(b, CallID(1), payload: ""))
        try world.run(.connectionLost(b))
        world.wait(.seconds(30))
        #expect(world.events(to: a, in: world.last).contains(.callEnded(CallID(1), .connectionLost)))
        #expect(world.presence(of: "a@x.io", seenBy: w) == [.online, .busy, .online])
        #expect(world.presence(of: "b@x.io", seenBy: w) == [.online, .busy, .offline])
        try world.run(.invite(a, callee: user("w@x.io"), call: CallID(2), payload: ""))
    }

    @Test func testCallSurvivesAConnectionThatResumesInTime() throws {
        var (world, a, b, w) = try Self.threeFriends()
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(1), payload: ""))
        try world.run(.accept(b, CallID(1), payload: ""))
        try world.run(.connectionLost(a))
        world.wait(.seconds(10))
        try world.run(.resume(a, lastSeenSequence: 0))
        world.wait(.seconds(60))
        try world.run(.signal(a, CallID(1), payload: "ice"))
        #expect(world.presence(of: "a@x.io", seenBy: w) == [.online, .busy])
    }

    @Test func testSigningOutMidCallEndsItForTheOtherParty() throws {
        var (world, a, b, _) = try Self.threeFriends()
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(1), payload: ""))
        try world.run(.accept(b, CallID(1), payload: ""))
        try world.run(.signOut(a))
        #expect(world.events(to: b, in: world.last).contains(.callEnded(CallID(1), .connectionLost)))
    }

    @Test func testCallerLeavingWhileRingingStopsTheRinging() throws {
        var (world, a, b, _) = try Self.threeFriends()
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(1), payload: ""))
        try world.run(.signOut(a))
        #expect(world.events(to: b, in: world.last).first == .callEnded(CallID(1), .cancelled))
        #expect(world.refusal(.accept(b, CallID(1), payload: "")) == .unknownCall)
    }

    @Test func testOnlyTheRightPartyMayActOnACall() throws {
        var (world, a, b, w) = try Self.threeFriends()
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(1), payload: ""))
        #expect(world.refusal(.accept(a, CallID(1), payload: "")) == .notCallParticipant)
        // To a user not in it, a live call is as unknown as an ended one.
        #expect(world.refusal(.accept(w, CallID(1), payload: "")) == .unknownCall)
        #expect(world.refusal(.signal(w, CallID(1), payload: "")) == .unknownCall)
        #expect(world.refusal(.cancel(b, CallID(1))) == .notCallParticipant)
        #expect(world.refusal(.signal(a, CallID(1), payload: "")) == .callStateMismatch)
        // The gateway issues call IDs, unique across shards; a repeat is caught by a home
        // that holds the call: the caller's, or the callee's, which keeps a copy.
        let holders = [world.home(of: "a@x.io"), world.home(of: "b@x.io")]
        let repeated: PresenceError? = holders.contains(world.home(of: "w@x.io")) ? .duplicateCall : nil
        #expect(world.refusal(.invite(w, callee: user("a@x.io"), call: CallID(1), payload: "")) == repeated)
    }

    /// What the caller observes when calling b, who is hidden on two devices or logged out.
    static func callerSees(hidden: Bool) throws -> [String] {
        var world = World(PresenceConfiguration(debounce: .seconds(1)))
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        var bSessions: [SessionID] = []
        if hidden {
            bSessions.append(try world.signIn("b@x.io", 2, chosen: .hidden, contacts: ["a@x.io"]))
            bSessions.append(try world.signIn("b@x.io", 3, device: .mobile, contacts: ["a@x.io"]))
        }
        world.wait(.seconds(2))
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(1), payload: "offer"))
        let rang = world.last
        for s in bSessions {
            #expect(world.events(to: s, in: rang) == [.callIncoming(CallID(1), from: user("a@x.io"), payload: "offer")])
            try world.run(.ringing(s, CallID(1)))
        }
        world.wait(.seconds(45))
        try world.run(.invite(a, callee: user("b@x.io"), call: CallID(2), payload: "offer"))
        if hidden { try world.run(.signOut(bSessions[0])); try world.run(.signOut(bSessions[1])) }
        try world.run(.cancel(a, CallID(2)))
        return world.deliveries(to: a).map { "#\($0.sequence) \($0.event)" }
    }

    @Test func testCallingAHiddenUserLooksExactlyLikeCallingALoggedOutUser() throws {
        #expect(try Self.callerSees(hidden: true) == Self.callerSees(hidden: false))
    }
}
