#!/usr/bin/env python3
"""Writes Protocol/schema/*.json, one JSON Schema (draft 2020-12) per message of presence.v1.

The schemas are checked in; this script is how they were written, so a change to a message
is one edit here plus a run. Each schema is self-contained (shared shapes are inlined
under $defs) so any validator can load a single file.
"""
import json
import pathlib

OUT = pathlib.Path(__file__).resolve().parent.parent / "schema"
MAX_INT = 9007199254740991

DEFS = {
    "requestId": {"type": "string", "minLength": 1, "maxLength": 64,
                  "description": "Client request ID, 1-64 bytes of UTF-8 (maxLength counts characters; the server counts bytes)."},
    "user": {"type": "string", "minLength": 3, "maxLength": 254, "pattern": "^[^@\\s]+@[^@\\s]+$",
             "description": "A user's e-mail address; the server lowercases and trims it."},
    "device": {"enum": ["desktop", "mobile", "web"]},
    "chosenStatus": {"enum": ["online", "busy", "hidden"]},
    "observedStatus": {"enum": ["offline", "idle", "mobile", "online", "busy"]},
    "id": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
    "seq": {"type": "integer", "minimum": 0, "maximum": MAX_INT},
    "millis": {"type": "integer", "description": "Milliseconds since the Unix epoch."},
    "payload": {"type": ["string", "object"], "description": "Opaque signalling data (SDP, ICE); passes through unchanged."},
    "presenceEntry": {
        "type": "object", "required": ["user", "status"], "additionalProperties": False,
        "properties": {"user": {"$ref": "#/$defs/user"}, "status": {"$ref": "#/$defs/observedStatus"},
                       "lastSeen": {"$ref": "#/$defs/millis"}}},
    "profile": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "firstName", "lastName", "offlineEmail", "googleLinked", "hasPassword"],
        "properties": {"id": {"$ref": "#/$defs/user"}, "firstName": {"type": "string"}, "lastName": {"type": "string"},
                       "offlineEmail": {"type": "boolean"}, "googleLinked": {"type": "boolean"},
                       "hasPassword": {"type": "boolean"}}},
    "chatMessage": {
        "type": "object", "additionalProperties": False,
        "required": ["messageId", "from", "to", "clientMessageId", "body", "sentAt"],
        "properties": {"messageId": {"$ref": "#/$defs/id"}, "from": {"$ref": "#/$defs/user"}, "to": {"$ref": "#/$defs/user"},
                       "clientMessageId": {"type": "string", "minLength": 1, "maxLength": 64},
                       "body": {"type": "string", "minLength": 1, "maxLength": 16384}, "sentAt": {"$ref": "#/$defs/millis"}}},
}

R = lambda name: {"$ref": f"#/$defs/{name}"}
S = lambda max_len, min_len=1: {"type": "string", "minLength": min_len, "maxLength": max_len}
VIEW = {"status": R("observedStatus"), "lastSeen": R("millis")}


def write(name, title, description, properties, required, extra=None):
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://presence.example/schema/{name}.json",
        "title": title,
        "description": description,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if extra:
        schema.update(extra)
    used = json.dumps(schema)
    defs = {}
    # Inline only the $defs this schema uses (transitively).
    pending = [k for k in DEFS if f'"#/$defs/{k}"' in used]
    while pending:
        key = pending.pop()
        if key in defs:
            continue
        defs[key] = DEFS[key]
        pending += [k for k in DEFS if f'"#/$defs/{k}"' in json.dumps(DEFS[key]) and k not in defs]
    if defs:
        schema["$defs"] = dict(sorted(defs.items()))
    (OUT / f"{name}.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")


def op(name, description, fields=None, required=()):
    props = {"op": {"const": name}, "id": R("requestId")}
    props.update(fields or {})
    write(f"op.{name}", f"op {name}", description, props, ["op", "id", *required])


def event(type_, description, fields=None, required=()):
    props = {"seq": R("seq"), "type": {"const": type_}}
    props.update(fields or {})
    write(f"event.{type_}", f"event {type_}", description, props, ["seq", "type", *required])


def reply(name, description, fields=None, required=()):
    props = {"type": {"const": "ok"}, "id": R("requestId")}
    props.update(fields or {})
    write(f"reply.{name}", f"reply {name}", description, props, ["type", "id", *required])


def main():
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()

    # --- Client ops ---
    sign_in_variants = [
        {"properties": {"method": {"const": "password"}}, "required": ["email", "password", "device"],
         "not": {"anyOf": [{"required": [k]} for k in ("deviceToken", "idToken", "key")]}},
        {"properties": {"method": {"const": "token"}}, "required": ["deviceToken"],
         "not": {"anyOf": [{"required": [k]} for k in ("email", "password", "idToken", "key", "staySignedIn")]}},
        {"properties": {"method": {"const": "google"}}, "required": ["idToken", "device"],
         "not": {"anyOf": [{"required": [k]} for k in ("email", "password", "deviceToken", "key")]}},
        {"properties": {"method": {"const": "subscriber"}}, "required": ["key"],
         "not": {"anyOf": [{"required": [k]} for k in ("email", "password", "deviceToken", "idToken", "device", "staySignedIn")]}},
    ]
    write("op.signIn", "op signIn", "Signs the connection in: password, device token, Google ID token, or subscriber key.",
          {"op": {"const": "signIn"}, "id": R("requestId"),
           "method": {"enum": ["password", "token", "google", "subscriber"]},
           "email": S(254), "password": S(1024), "device": R("device"), "staySignedIn": {"type": "boolean"},
           "deviceToken": S(256), "idToken": S(8192), "key": S(256)},
          ["op", "id", "method"], {"oneOf": sign_in_variants})
    op("resume", "Takes over a session after a reconnect and replays the events after lastSeq.",
       {"resumeToken": S(256), "lastSeq": R("seq")}, ["resumeToken", "lastSeq"])
    op("logOut", "Ends the session and revokes this device's token; close 4000 follows.")
    op("setStatus", "Chooses a status for every device of the user.", {"status": R("chosenStatus")}, ["status"])
    op("activity", "The user touched this device; ends idle.")
    op("heartbeat", "Keep-alive and acknowledgement of every event up to lastSeq. Not activity.",
       {"lastSeq": R("seq")}, ["lastSeq"])
    for name, what in [("requestContact", "Asks a user to become a contact."),
                       ("acceptContact", "Accepts a pending request from a user."),
                       ("declineContact", "Declines a pending request from a user."),
                       ("removeContact", "Removes a contact, or withdraws a request.")]:
        op(name, what, {"user": R("user")}, ["user"])
    op("send", "Sends a chat to a contact. The reply comes once the message is committed (see reply.send).",
       {"to": R("user"), "clientMessageId": S(64), "body": S(16384)}, ["to", "clientMessageId", "body"])
    op("history", "One page of the conversation with a contact, newest first.",
       {"with": R("user"), "before": R("id"), "limit": {"type": "integer", "minimum": 1, "maximum": 100}}, ["with"])
    op("invite", "Rings a contact. The reply carries the call ID.", {"to": R("user"), "payload": R("payload")}, ["to"])
    for name, what in [("ringing", "A callee device reports that it rings."), ("decline", "The callee declines."),
                       ("cancel", "The caller gives up before an answer."), ("hangUp", "Either party ends an answered call.")]:
        op(name, what, {"call": R("id")}, ["call"])
    op("accept", "The callee answers on this device.", {"call": R("id"), "payload": R("payload")}, ["call"])
    op("signal", "Opaque signalling for the other party of an answered call.",
       {"call": R("id"), "payload": R("payload")}, ["call", "payload"])
    users = {"type": "array", "minItems": 1, "maxItems": 500, "items": R("user")}
    op("subscribe", "A subscriber starts watching users (all or nothing).", {"users": users}, ["users"])
    op("unsubscribe", "A subscriber stops watching users.", {"users": users}, ["users"])
    write("op.updateProfile", "op updateProfile",
          "Edits the profile; every session of the user then closes with 4003. The e-mail cannot change.",
          {"op": {"const": "updateProfile"}, "id": R("requestId"), "firstName": S(400, 0), "lastName": S(400, 0),
           "offlineEmail": {"type": "boolean"}},
          ["op", "id"], {"anyOf": [{"required": ["firstName"]}, {"required": ["lastName"]}, {"required": ["offlineEmail"]}]})
    op("changePassword", "Changes the password; the user's other sessions close with 4003.",
       {"currentPassword": S(1024), "newPassword": S(1024)}, ["currentPassword", "newPassword"])
    op("deleteAccount", "Deletes the account after checking the password; close 4004 follows.",
       {"password": S(1024)}, ["password"])
    write("op.changeEmail", "op changeEmail",
          "Always refused with email_cannot_change: the e-mail is the account's ID. Any fields are accepted.",
          {"op": {"const": "changeEmail"}, "id": R("requestId")}, ["op", "id"], {"additionalProperties": True})

    # --- Replies ---
    reply("ok", "The success reply of ops whose success carries nothing.")
    write("reply.signIn", "reply signIn", "The success reply of signIn, for a user or a subscriber.",
          {"type": {"const": "ok"}, "id": R("requestId"), "session": {"type": "string", "pattern": "^[0-9]+$"},
           "resumeToken": {"type": "string", "pattern": "^[0-9]+\\.[0-9a-f]{32}$"}, "profile": R("profile"),
           "device": R("device"), "deviceToken": {"type": "string", "minLength": 1},
           "subscriber": {"type": "object", "additionalProperties": False, "required": ["name", "allowed"],
                          "properties": {"name": {"type": "string"}, "allowed": {"type": "array", "items": R("user")}}}},
          ["type", "id", "session", "resumeToken"],
          {"oneOf": [{"required": ["profile", "device"], "not": {"required": ["subscriber"]}},
                     {"required": ["subscriber"], "not": {"anyOf": [{"required": ["profile"]}, {"required": ["device"]},
                                                                    {"required": ["deviceToken"]}]}}]})
    reply("resume", "The success reply of resume; the missed events follow.",
          {"session": {"type": "string", "pattern": "^[0-9]+$"}}, ["session"])
    reply("invite", "The success reply of invite.", {"call": R("id")}, ["call"])
    reply("send", "The success reply of send, written only after the message is committed (a retry of a committed "
          "message gets it again, with the same messageId). The chatAccepted event says the same, sequenced.",
          {"clientMessageId": S(64), "messageId": R("id"), "receipt": {"enum": ["delivered", "stored"]}},
          ["clientMessageId", "messageId", "receipt"])
    reply("history", "One page of history, newest first.",
          {"messages": {"type": "array", "items": R("chatMessage")}, "hasMore": {"type": "boolean"}}, ["messages", "hasMore"])
    reply("updateProfile", "The saved profile; close 4003 follows.", {"profile": R("profile")}, ["profile"])
    write("error", "error", "The failure reply of any op. id is null when the message had no readable id.",
          {"type": {"const": "error"}, "id": {"oneOf": [R("requestId"), {"type": "null"}]},
           "code": {"type": "string", "pattern": "^[a-z]+(_[a-z]+)*$"}, "message": {"type": "string"},
           "field": {"type": "string"}, "retryAfter": {"type": "integer", "minimum": 0}},
          ["type", "id", "code", "message"])

    # --- Notices ---
    write("hello", "hello", "The first message on every connection, before sign-in.",
          {"type": {"const": "hello"}, "protocol": {"const": "presence.v1"}, "server": {"type": "string"},
           "heartbeatSeconds": {"type": "integer", "minimum": 1}, "resumeWindowSeconds": {"type": "integer", "minimum": 0},
           "signInTimeoutSeconds": {"type": "integer", "minimum": 1},
           "limits": {"type": "object", "additionalProperties": {"type": "integer"},
                      "required": ["messageBytes", "requestIdBytes", "bodyBytes", "clientMessageIdBytes", "payloadBytes",
                                   "usersPerSubscribe", "historyLimit"]}},
          ["type", "protocol", "server", "heartbeatSeconds", "resumeWindowSeconds", "signInTimeoutSeconds", "limits"])
    write("closing", "closing", "Sent just before an application close (4000-4999).",
          {"type": {"const": "closing"}, "code": {"type": "integer", "minimum": 4000, "maximum": 4999},
           "reason": {"enum": ["signed_out", "session_expired", "resume_impossible", "reauthenticate", "account_deleted",
                               "sign_in_timeout", "heartbeat_timeout", "too_many_sessions"]},
           "advice": {"enum": ["reconnectAndResume", "signInAgain", "stop"]}, "message": {"type": "string"}},
          ["type", "code", "reason", "advice", "message"])

    # --- Events ---
    entries = {"type": "array", "items": R("presenceEntry")}
    event("snapshot", "First event of a sign-in: own status, contacts with presence, pending requests.",
          {"status": R("chosenStatus"), "contacts": entries, "incoming": {"type": "array", "items": R("user")},
           "outgoing": {"type": "array", "items": R("user")}}, ["status", "contacts", "incoming", "outgoing"])
    event("ownStatus", "The user's chosen status changed on some device.", {"status": R("chosenStatus")}, ["status"])
    event("presence", "A contact's or watched user's presence changed.", {"user": R("user"), **VIEW}, ["user", "status"])
    event("contactRequest", "Someone asked to become a contact.", {"from": R("user")}, ["from"])
    event("contactRequestSent", "This user asked someone to become a contact.", {"to": R("user")}, ["to"])
    event("contactAdded", "A relationship became accepted.", {"user": R("user"), **VIEW}, ["user", "status"])
    event("contactRemoved", "A contact or pending request is gone.", {"user": R("user")}, ["user"])
    chat_fields = dict(DEFS["chatMessage"]["properties"])
    event("chat", "A chat message (to the recipient, or a copy to the sender's other devices).",
          chat_fields, DEFS["chatMessage"]["required"])
    event("chatAccepted", "To the sending session: the message is committed.",
          {"clientMessageId": S(64), "messageId": R("id"), "receipt": {"enum": ["delivered", "stored"]}},
          ["clientMessageId", "messageId", "receipt"])
    event("chatFailed", "To the sending session: the message was not committed; send it again.",
          {"clientMessageId": S(64)}, ["clientMessageId"])
    event("callIncoming", "A call rings on this device.", {"call": R("id"), "from": R("user"), "payload": R("payload")},
          ["call", "from"])
    event("callRinging", "To the caller: a callee device rings.", {"call": R("id")}, ["call"])
    event("callAccepted", "To the caller: the callee answered.", {"call": R("id"), "payload": R("payload")}, ["call"])
    event("callAnsweredElsewhere", "To the callee's other devices: answered elsewhere.", {"call": R("id")}, ["call"])
    event("callSignal", "Signalling from the other party.", {"call": R("id"), "payload": R("payload")}, ["call", "payload"])
    event("callEnded", "The call is over.",
          {"call": R("id"), "reason": {"enum": ["declined", "cancelled", "noAnswer", "busy", "hungUp", "connectionLost", "contactRemoved"]}},
          ["call", "reason"])
    event("subscriptionSnapshot", "To a subscriber: current presence of the users it subscribed to.",
          {"users": entries}, ["users"])
    event("subscriptionEnded", "To a subscriber: a watched account is gone.", {"user": R("user")}, ["user"])


if __name__ == "__main__":
    main()
