import Presence

extension ReplyEncoder {
    /// The reply to `send`, written after the message is committed:
    /// `{"type":"ok","id":…,"clientMessageId":…,"messageId":N,"receipt":"delivered"|"stored"}`.
    static func chatAccepted(id: String, _ ack: ChatAck) -> [UInt8] {
        var json = begin("ok", id: id)
        json.key("clientMessageId"); json.string(ack.clientMessageID)
        json.key("messageId"); json.number(ack.messageID.rawValue)
        json.key("receipt"); json.string(ack.receipt.wireName)
        json.endObject()
        return json.bytes
    }
}
