#!/usr/bin/env python3
"""Writes Protocol/examples/*.json. The transcripts are checked in; this is how they were written."""
import json, pathlib
OUT = pathlib.Path(__file__).resolve().parent.parent / "examples"
PW = "Correct-Horse-1"
HELLO = {"type": "hello", "protocol": "presence.v1", "server": "$any", "heartbeatSeconds": "$any",
         "resumeWindowSeconds": "$any", "signInTimeoutSeconds": "$any", "limits": "$any"}

def dump(name, steps):
    lines = ",\n".join("  " + json.dumps(s, ensure_ascii=False) for s in steps)
    (OUT / name).write_text("[\n" + lines + "\n]\n")

def signup(email, first, last, offline=False):
    return {"http": {"method": "POST", "path": "/v1/accounts", "contentType": "application/json",
                     "body": {"email": email, "password": PW, "firstName": first, "lastName": last, "offlineEmail": offline}},
            "expectStatus": 201,
            "expectBody": {"profile": profile(email, first, last, offline)}}

def profile(email, first, last, offline=False):
    return {"id": email, "firstName": first, "lastName": last, "offlineEmail": offline, "googleLinked": False, "hasPassword": True}

def connect(c): return [{"client": c, "connect": {}}, {"client": c, "expect": HELLO}]

def sign_in(c, rid, email, first, last, device, var, stay=False, offline=False, snapshot=None):
    send = {"op": "signIn", "id": rid, "method": "password", "email": email, "password": PW, "device": device}
    if stay: send["staySignedIn"] = True
    reply = {"type": "ok", "id": rid, "session": f"${var}Session", "resumeToken": f"${var}Resume",
             "profile": profile(email, first, last, offline), "device": device}
    if stay: reply["deviceToken"] = f"${var}DeviceToken"
    snap = {"seq": 1, "type": "snapshot", "status": "online", "contacts": [], "incoming": [], "outgoing": []}
    snap.update(snapshot or {})
    return [{"client": c, "send": send}, {"client": c, "expect": reply}, {"client": c, "expect": snap}]

def ok(c, rid, **extra): return {"client": c, "expect": {"type": "ok", "id": rid, **extra}}
def send(c, msg): return {"client": c, "send": msg}
def expect(c, msg): return {"client": c, "expect": msg}
def ev(c, type_, **fields): return {"client": c, "expect": {"seq": "$seq", "type": type_, **fields}}
def err(c, rid, code, **extra): return {"client": c, "expect": {"type": "error", "id": rid, "code": code, "message": "$any", **extra}}
def note(text): return {"note": text}
# Replays configure short windows (a `gateway` step) so they run in seconds; a wait for
# "the debounce window to pass" is several windows long, so a busy machine does not blur it.
DEBOUNCE_MS = 50
def wait(ms=300): return {"wait": ms}
def gateway(**settings): return {"gateway": {"debounceMilliseconds": DEBOUNCE_MS, **settings}}

def befriend(a, a_email, b, b_email, rid_a, rid_b, b_view):
    """a asks b, b accepts. Both already signed in and settled."""
    return [
        send(a, {"op": "requestContact", "id": rid_a, "user": b_email}), ok(a, rid_a),
        ev(a, "contactRequestSent", to=b_email), ev(b, "contactRequest", **{"from": a_email}),
        send(b, {"op": "acceptContact", "id": rid_b, "user": a_email}), ok(b, rid_b),
        ev(b, "contactAdded", user=a_email, status="online"),
        ev(a, "contactAdded", user=b_email, status=b_view),
    ]

# ---------------------------------------------------------------- 01
ann, bob = "ann.presence@example.org", "bob.presence@example.org"
dump("01-contacts-and-presence.json", [
    note("Sign-up over HTTP, sign-in, a contact request and its acceptance, presence deltas, Hidden, log-out."),
    gateway(),
    signup(ann, "Ann", "Lee"), signup(bob, "Bob", "Stone"),
    *connect("ann"), *sign_in("ann", "a1", ann, "Ann", "Lee", "desktop", "ann"),
    send("ann", {"op": "requestContact", "id": "a2", "user": bob}), ok("ann", "a2"),
    ev("ann", "contactRequestSent", to=bob),
    note("Bob is not signed in yet: the request waits in his snapshot."),
    wait(),
    *connect("bob"), *sign_in("bob", "b1", bob, "Bob", "Stone", "mobile", "bob", snapshot={"incoming": [ann]}),
    wait(),
    send("bob", {"op": "acceptContact", "id": "b2", "user": ann}), ok("bob", "b2"),
    ev("bob", "contactAdded", user=ann, status="online"),
    note("Bob is signed in only on a phone: he shows as mobile."),
    ev("ann", "contactAdded", user=bob, status="mobile"),
    send("ann", {"op": "setStatus", "id": "a3", "status": "hidden"}), ok("ann", "a3"),
    ev("ann", "ownStatus", status="hidden"),
    note("After the debounce window Bob sees Ann exactly as if she had logged out."),
    wait(),
    ev("bob", "presence", user=ann, status="offline", lastSeen="$time"),
    send("ann", {"op": "setStatus", "id": "a4", "status": "busy"}), ok("ann", "a4"),
    ev("ann", "ownStatus", status="busy"),
    wait(),
    ev("bob", "presence", user=ann, status="busy"),
    note("A heartbeat acknowledges everything received so far."),
    send("bob", {"op": "heartbeat", "id": "b3", "lastSeq": "$lastSeq:bob"}), ok("bob", "b3"),
    send("bob", {"op": "logOut", "id": "b4"}), ok("bob", "b4"),
    expect("bob", {"type": "closing", "code": 4000, "reason": "signed_out", "advice": "stop", "message": "$any"}),
    {"client": "bob", "expectClose": {"code": 4000}},
    wait(),
    ev("ann", "presence", user=bob, status="offline", lastSeen="$time"),
])

# ---------------------------------------------------------------- 02
cat, dan = "cat.chat@example.org", "dan.chat@example.org"
dump("02-chat-history-and-backlog.json", [
    note("A chat with its two acknowledgements, a retry, history, the end of a session after its grace period, and the offline backlog."),
    gateway(disconnectGraceMilliseconds=1000),
    signup(cat, "Cat", "Moss"), signup(dan, "Dan", "Reed"),
    *connect("cat"), *sign_in("cat", "c1", cat, "Cat", "Moss", "desktop", "cat"),
    *connect("dan"), *sign_in("dan", "d1", dan, "Dan", "Reed", "web", "dan"),
    wait(),
    *befriend("cat", cat, "dan", dan, "c2", "d2", "online"),
    send("cat", {"op": "send", "id": "c3", "to": dan, "clientMessageId": "m-1", "body": "Hi Dan! \"quotes\", émoji 🎉"}),
    note("The reply comes only once the message is committed, with its ID and receipt; chatAccepted, sequenced, says the same."),
    ok("cat", "c3", clientMessageId="m-1", messageId="$m1", receipt="delivered"),
    ev("dan", "chat", messageId="$m1", **{"from": cat}, to=dan, clientMessageId="m-1",
       body="Hi Dan! \"quotes\", émoji 🎉", sentAt="$time"),
    ev("cat", "chatAccepted", clientMessageId="m-1", messageId="$m1", receipt="delivered"),
    note("A retry with the same clientMessageId is not stored twice: the same ack comes again."),
    send("cat", {"op": "send", "id": "c4", "to": dan, "clientMessageId": "m-1", "body": "Hi Dan! \"quotes\", émoji 🎉"}),
    ok("cat", "c4", clientMessageId="m-1", messageId="$m1", receipt="delivered"),
    ev("cat", "chatAccepted", clientMessageId="m-1", messageId="$m1", receipt="delivered"),
    send("dan", {"op": "heartbeat", "id": "d3", "lastSeq": "$lastSeq:dan"}), ok("dan", "d3"),
    send("dan", {"op": "history", "id": "d4", "with": cat, "limit": 10}),
    ok("dan", "d4", messages=[{"messageId": "$m1", "from": cat, "to": dan, "clientMessageId": "m-1",
                               "body": "Hi Dan! \"quotes\", émoji 🎉", "sentAt": "$time"}], hasMore=False),
    note("Dan closes the app: his session ends after the grace period (1 s here), Cat's next message waits for him."),
    {"client": "dan", "close": {"code": 1000}},
    wait(1500),
    ev("cat", "presence", user=dan, status="offline", lastSeen="$time"),
    send("cat", {"op": "send", "id": "c5", "to": dan, "clientMessageId": "m-2", "body": "Call me later"}),
    ok("cat", "c5", clientMessageId="m-2", messageId="$m2", receipt="stored"),
    ev("cat", "chatAccepted", clientMessageId="m-2", messageId="$m2", receipt="stored"),
    *connect("dan"),
    send("dan", {"op": "signIn", "id": "d5", "method": "password", "email": dan, "password": PW, "device": "web"}),
    ok("dan", "d5", session="$danSession2", resumeToken="$danResume2", profile=profile(dan, "Dan", "Reed"), device="web"),
    expect("dan", {"seq": 1, "type": "snapshot", "status": "online",
                   "contacts": [{"user": cat, "status": "online"}], "incoming": [], "outgoing": []}),
    note("The backlog follows the snapshot, oldest first."),
    ev("dan", "chat", messageId="$m2", **{"from": cat}, to=dan, clientMessageId="m-2", body="Call me later", sentAt="$time"),
    send("dan", {"op": "heartbeat", "id": "d6", "lastSeq": "$lastSeq:dan"}), ok("dan", "d6"),
])

# ---------------------------------------------------------------- 03
eve, fay = "eve.call@example.org", "fay.call@example.org"
dump("03-call.json", [
    note("Call signalling: invite, ringing, accept, opaque signals, both Busy, hang-up."),
    gateway(),
    signup(eve, "Eve", "Hart"), signup(fay, "Fay", "Lane"),
    *connect("eve"), *sign_in("eve", "e1", eve, "Eve", "Hart", "desktop", "eve"),
    *connect("fay"), *sign_in("fay", "f1", fay, "Fay", "Lane", "desktop", "fay"),
    wait(),
    *befriend("eve", eve, "fay", fay, "e2", "f2", "online"),
    send("eve", {"op": "invite", "id": "e3", "to": fay, "payload": {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"}}),
    ok("eve", "e3", call="$call"),
    ev("fay", "callIncoming", call="$call", **{"from": eve}, payload={"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"}),
    send("fay", {"op": "ringing", "id": "f3", "call": "$call"}), ok("fay", "f3"),
    ev("eve", "callRinging", call="$call"),
    send("fay", {"op": "accept", "id": "f4", "call": "$call", "payload": {"type": "answer", "sdp": "v=0\r\n"}}), ok("fay", "f4"),
    ev("eve", "callAccepted", call="$call", payload={"type": "answer", "sdp": "v=0\r\n"}),
    send("eve", {"op": "signal", "id": "e4", "call": "$call", "payload": "candidate:1 1 udp 2122260223 10.0.0.1 49152 typ host"}),
    ok("eve", "e4"),
    ev("fay", "callSignal", call="$call", payload="candidate:1 1 udp 2122260223 10.0.0.1 49152 typ host"),
    note("Both are Busy to their contacts while the call lasts."),
    wait(),
    ev("eve", "presence", user=fay, status="busy"),
    ev("fay", "presence", user=eve, status="busy"),
    send("fay", {"op": "hangUp", "id": "f5", "call": "$call"}), ok("fay", "f5"),
    note("Only the other party is told; the one who hung up knows."),
    ev("eve", "callEnded", call="$call", reason="hungUp"),
    wait(),
    ev("eve", "presence", user=fay, status="online"),
    ev("fay", "presence", user=eve, status="online"),
    send("eve", {"op": "hangUp", "id": "e5", "call": "$call"}),
    err("eve", "e5", "unknown_call"),
])

# ---------------------------------------------------------------- 04
gus, hal = "gus.resume@example.org", "hal.resume@example.org"
dump("04-resume.json", [
    note("A dropped connection resumes within the grace period: missed events are replayed, contacts see nothing."),
    gateway(),
    signup(gus, "Gus", "Ford"), signup(hal, "Hal", "Vane"),
    *connect("gus"), *sign_in("gus", "g1", gus, "Gus", "Ford", "desktop", "gus"),
    *connect("hal"), *sign_in("hal", "h1", hal, "Hal", "Vane", "desktop", "hal"),
    wait(),
    *befriend("gus", gus, "hal", hal, "g2", "h2", "online"),
    send("hal", {"op": "heartbeat", "id": "h3", "lastSeq": "$lastSeq:hal"}), ok("hal", "h3"),
    {"client": "hal", "drop": {}},
    wait(300),
    send("gus", {"op": "send", "id": "g3", "to": hal, "clientMessageId": "r-1", "body": "are you there?"}),
    ok("gus", "g3", clientMessageId="r-1", messageId="$r1", receipt="stored"),
    note("The dropped session still counts as present during its grace period."),
    ev("gus", "chatAccepted", clientMessageId="r-1", messageId="$r1", receipt="stored"),
    *connect("hal"),
    send("hal", {"op": "resume", "id": "h4", "resumeToken": "$halResume", "lastSeq": "$lastSeq:hal"}),
    ok("hal", "h4", session="$halSession"),
    ev("hal", "chat", messageId="$r1", **{"from": gus}, to=hal, clientMessageId="r-1", body="are you there?", sentAt="$time"),
    wait(),
    {"client": "gus", "expectNothing": 500},
    note("A resume token that is wrong, or whose session is over, is told to sign in afresh."),
    *connect("stranger"),
    send("stranger", {"op": "resume", "id": "s1", "resumeToken": "999999.00000000000000000000000000000000", "lastSeq": 0}),
    err("stranger", "s1", "unknown_session"),
])

# ---------------------------------------------------------------- 05
ivy = "ivy.errors@example.org"
dump("05-bad-input.json", [
    note("Bad input gets a documented error reply and never closes the connection."),
    signup(ivy, "Ivy", "Cole"),
    *connect("ivy"),
    send("ivy", {"op": "setStatus", "id": "x1", "status": "busy"}), err("ivy", "x1", "not_signed_in"),
    {"client": "ivy", "sendText": "{\"op\":\"signIn\",\"id\":"}, err("ivy", None, "malformed_json"),
    {"client": "ivy", "sendText": "[1,2,3]"}, err("ivy", None, "not_an_object"),
    {"client": "ivy", "sendText": "{\"op\":\"activity\",\"id\":\"x2\",\"id\":\"x3\"}"}, err("ivy", None, "malformed_json"),
    {"client": "ivy", "sendBinary": "AAEC"}, err("ivy", None, "binary_frame"),
    send("ivy", {"op": "activity"}), err("ivy", None, "invalid_id", field="id"),
    send("ivy", {"op": "teleport", "id": "x4"}), err("ivy", "x4", "unknown_op"),
    send("ivy", {"op": "signIn", "id": "x5", "method": "password", "email": ivy, "device": "desktop"}),
    err("ivy", "x5", "missing_field", field="password"),
    send("ivy", {"op": "signIn", "id": "x6", "method": "password", "email": ivy, "password": PW, "device": "fridge"}),
    err("ivy", "x6", "invalid_value", field="device"),
    send("ivy", {"op": "signIn", "id": "x7", "method": "password", "email": ivy, "password": PW, "device": "desktop", "rememberMe": True}),
    err("ivy", "x7", "unknown_field", field="rememberMe"),
    send("ivy", {"op": "signIn", "id": "x8", "method": "password", "email": ivy, "password": "wrong-Password-1", "device": "desktop"}),
    err("ivy", "x8", "invalid_credentials"),
    *sign_in("ivy", "x9", ivy, "Ivy", "Cole", "desktop", "ivy"),
    send("ivy", {"op": "signIn", "id": "x10", "method": "password", "email": ivy, "password": PW, "device": "desktop"}),
    err("ivy", "x10", "already_signed_in"),
    send("ivy", {"op": "heartbeat", "id": "x11", "lastSeq": "7"}), err("ivy", "x11", "wrong_type", field="lastSeq"),
    send("ivy", {"op": "heartbeat", "id": "x12", "lastSeq": 1.5}), err("ivy", "x12", "wrong_type", field="lastSeq"),
    send("ivy", {"op": "heartbeat", "id": "x13", "lastSeq": 99}), err("ivy", "x13", "sequence_ahead"),
    send("ivy", {"op": "setStatus", "id": "x14", "status": None}), err("ivy", "x14", "wrong_type", field="status"),
    send("ivy", {"op": "requestContact", "id": "x15", "user": "not an address"}), err("ivy", "x15", "invalid_email", field="user"),
    send("ivy", {"op": "requestContact", "id": "x16", "user": ivy}), err("ivy", "x16", "cannot_target_self"),
    send("ivy", {"op": "send", "id": "x17", "to": "nobody.errors@example.org", "clientMessageId": "n-1", "body": "hi"}),
    err("ivy", "x17", "not_a_contact"),
    send("ivy", {"op": "send", "id": "x18", "to": "nobody.errors@example.org", "clientMessageId": "n-2", "body": "x" * 16385}),
    err("ivy", "x18", "value_too_long", field="body"),
    send("ivy", {"op": "updateProfile", "id": "x19", "email": "ivy.new@example.org"}),
    err("ivy", "x19", "email_cannot_change", field="email"),
    send("ivy", {"op": "changeEmail", "id": "x20", "newEmail": "ivy.new@example.org"}), err("ivy", "x20", "email_cannot_change"),
    send("ivy", {"op": "updateProfile", "id": "x21"}), err("ivy", "x21", "no_changes"),
    send("ivy", {"op": "subscribe", "id": "x22", "users": [ivy]}), err("ivy", "x22", "wrong_session_kind"),
    note("Still connected and signed in after all of that."),
    send("ivy", {"op": "activity", "id": "x23"}), ok("ivy", "x23"),
])

# ---------------------------------------------------------------- 06
jon, kim = "jon.profile@example.org", "kim.profile@example.org"
dump("06-profile-change-and-device-token.json", [
    note("Stay signed in, a profile edit that closes every session with 4003, and the device-token sign-in that follows."),
    signup(jon, "Jon", "Park"),
    *connect("jon"), *sign_in("jon", "j1", jon, "Jon", "Park", "desktop", "jon", stay=True),
    send("jon", {"op": "updateProfile", "id": "j2", "firstName": "Jonathan", "offlineEmail": True}),
    ok("jon", "j2", profile=profile(jon, "Jonathan", "Park", True)),
    expect("jon", {"type": "closing", "code": 4003, "reason": "reauthenticate", "advice": "signInAgain", "message": "$any"}),
    {"client": "jon", "expectClose": {"code": 4003}},
    *connect("jon"),
    send("jon", {"op": "signIn", "id": "j3", "method": "token", "deviceToken": "$jonDeviceToken"}),
    note("A token sign-in rotates the token: store the new one. The one sent stays usable for 60 s in case this reply is lost, "
         "but only until the new one is used."),
    ok("jon", "j3", session="$jonSession2", resumeToken="$jonResume2", profile=profile(jon, "Jonathan", "Park", True),
       device="desktop", deviceToken="$jonDeviceToken2"),
    expect("jon", {"seq": 1, "type": "snapshot", "status": "online", "contacts": [], "incoming": [], "outgoing": []}),
    {"client": "jon", "close": {}},
    *connect("jon"),
    send("jon", {"op": "signIn", "id": "j3b", "method": "token", "deviceToken": "$jonDeviceToken2"}),
    note("The new token was used: the first one is dead now."),
    ok("jon", "j3b", session="$jonSession3", resumeToken="$jonResume3", profile=profile(jon, "Jonathan", "Park", True),
       device="desktop", deviceToken="$jonDeviceToken3"),
    expect("jon", {"seq": 1, "type": "snapshot", "status": "online", "contacts": [], "incoming": [], "outgoing": []}),
    *connect("thief"),
    send("thief", {"op": "signIn", "id": "t1", "method": "token", "deviceToken": "$jonDeviceToken"}),
    err("thief", "t1", "invalid_device_token"),
    send("jon", {"op": "changePassword", "id": "j4", "currentPassword": "not-the-Password-1", "newPassword": "Another-Horse-2"}),
    err("jon", "j4", "invalid_credentials"),
    send("jon", {"op": "changePassword", "id": "j5", "currentPassword": PW, "newPassword": "short"}),
    err("jon", "j5", "password_rejected"),
    send("jon", {"op": "deleteAccount", "id": "j6", "password": PW}), ok("jon", "j6"),
    expect("jon", {"type": "closing", "code": 4004, "reason": "account_deleted", "advice": "stop", "message": "$any"}),
    {"client": "jon", "expectClose": {"code": 4004}},
    note("The address can sign up again, as a new empty account."),
    signup(jon, "Jon", "Park"),
])

# ---------------------------------------------------------------- 07
lea, max_ = "lea.watch@example.org", "max.watch@example.org"
dump("07-subscriber.json", [
    note("A watch-only dashboard. The gateway step configures its subscriber key 'example-dashboard-key', "
         "named 'clinic-dashboard' and allowed to watch lea.watch@example.org only."),
    gateway(subscribers=[{"key": "example-dashboard-key", "name": "clinic-dashboard", "allowed": [lea]}]),
    signup(lea, "Lea", "Hunt"), signup(max_, "Max", "Wolf"),
    *connect("lea"), *sign_in("lea", "l1", lea, "Lea", "Hunt", "desktop", "lea"),
    wait(),
    *connect("dash"),
    send("dash", {"op": "signIn", "id": "s1", "method": "subscriber", "key": "wrong-key"}),
    err("dash", "s1", "invalid_subscriber_key"),
    send("dash", {"op": "signIn", "id": "s2", "method": "subscriber", "key": "example-dashboard-key"}),
    ok("dash", "s2", session="$dashSession", resumeToken="$dashResume",
       subscriber={"name": "clinic-dashboard", "allowed": [lea]}),
    send("dash", {"op": "subscribe", "id": "s3", "users": [lea, max_]}), err("dash", "s3", "not_permitted"),
    send("dash", {"op": "subscribe", "id": "s4", "users": [lea]}), ok("dash", "s4"),
    expect("dash", {"seq": 1, "type": "subscriptionSnapshot", "users": [{"user": lea, "status": "online"}]}),
    send("lea", {"op": "setStatus", "id": "l2", "status": "busy"}), ok("lea", "l2"),
    ev("lea", "ownStatus", status="busy"),
    wait(),
    ev("dash", "presence", user=lea, status="busy"),
    send("dash", {"op": "send", "id": "s5", "to": lea, "clientMessageId": "x", "body": "hi"}),
    err("dash", "s5", "wrong_session_kind"),
])
