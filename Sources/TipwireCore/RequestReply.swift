import Foundation

/// The answer to an information request, or the reason it is declined, with the documents that go with
/// an answer: `{"answer": "…", "document_ids": […]}` or `{"reason": "…"}`. The API and the pages read it
/// the same way.
public struct RequestReply: Sendable, Hashable {
    public var text: String
    public var documentIDs: [UUID]

    public static func parse(_ value: JSONValue, declined: Bool) throws(ValidationFailure) -> RequestReply {
        var reader = FieldReader(object: value, allowed: declined ? ["reason"] : ["answer", "document_ids"])
        let text = reader.text(declined ? "reason" : "answer", length: 1...20_000, multiline: true)
        var documents: [UUID] = []
        for (index, item) in (reader.array("document_ids") ?? []).enumerated() {
            guard case .string(let value) = item, let document = UUID(uuidString: value) else {
                reader.fail("document_ids[\(index)]", "must be a document id (a UUID)")
                continue
            }
            if documents.contains(document) {
                reader.fail("document_ids[\(index)]", "repeats document \(value.lowercased())")
            } else {
                documents.append(document)
            }
        }
        guard reader.errors.isEmpty, let text else { throw ValidationFailure(reader.errors) }
        return RequestReply(text: text, documentIDs: documents)
    }
}

/// A newsroom's question to the agencies handling a finding: `{"question": "…", "agency": "so-xd"}`;
/// without `agency`, every agency with a task on it is asked.
public struct QuestionSubmission: Sendable, Hashable {
    public var question: String
    public var agency: PartyCode?

    public static func parse(_ value: JSONValue) throws(ValidationFailure) -> QuestionSubmission {
        var reader = FieldReader(object: value, allowed: ["question", "agency"])
        let question = reader.text("question", length: 1...20_000, multiline: true)
        let agency = reader.code("agency", required: false)
        guard reader.errors.isEmpty, let question else { throw ValidationFailure(reader.errors) }
        return QuestionSubmission(question: question, agency: agency)
    }
}
