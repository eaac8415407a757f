import Foundation
import Testing
import TipwireCore

@Suite("Finding intake decisions")
struct FindingIntakeTests {
    static func code(_ text: String) -> PartyCode { PartyCode(rawValue: text)! }

    static let reference = IntakeReference(
        categories: ["land", "procurement", "health"],
        jurisdictionParents: [code("ha-noi"): nil, code("cau-giay"): code("ha-noi")],
        routing: RoutingTests.table)

    static let tuoitre = code("tuoitre")
    static let ownDocument = UUID()
    static let othersDocument = UUID()
    static let documents: [UUID: (newsroom: PartyCode, check: DocumentClaimCheck)] = [
        ownDocument: (
            newsroom: tuoitre, check: DocumentClaimCheck(id: ownDocument, sha256: "ab", size: 2, mediaType: "application/pdf", url: "u1")
        ),
        othersDocument: (
            newsroom: code("vnexpress"), check: DocumentClaimCheck(id: othersDocument, sha256: "cd", size: 2, mediaType: "application/pdf", url: "u2")
        ),
    ]

    static func submission(
        category: String = "land", jurisdiction: String = "cau-giay", subject: String? = nil, documents: [UUID] = []
    ) -> FindingSubmission {
        FindingSubmission(
            articleURL: "https://tuoitre.vn/a", title: "Đất công bị chiếm dụng", publishedAt: Date(timeIntervalSince1970: 1_780_000_000),
            summary: "…", category: category, jurisdiction: code(jurisdiction), subjectAgency: subject.map(code), documentIDs: documents)
    }

    static func decide(_ submission: FindingSubmission) throws -> Result<AcceptedFinding, ValidationFailure> {
        try FindingIntake.decide(submission, from: tuoitre, reference: reference, documents: documents)
    }

    @Test func anAcceptedFindingGoesToEveryAgencyItsJurisdictionLineageNamesWithItsDocumentsInOrder() throws {
        let accepted = try Self.decide(Self.submission(documents: [Self.ownDocument])).get()
        #expect(accepted.routed.map(\.agency.rawValue) == ["so-nnmt", "ubnd-cau-giay"])
        #expect(accepted.documents.map(\.id) == [Self.ownDocument.lowercased])
    }

    @Test(arguments: [
        (submission(category: "weather"), "category"),
        (submission(jurisdiction: "atlantis"), "jurisdiction"),
        (submission(subject: "so-khong-co"), "subject_agency"),
        (submission(documents: [othersDocument]), "document_ids[0]"),
        (submission(documents: [ownDocument, UUID()]), "document_ids[1]"),
    ])
    func aReferenceTheDatabaseDoesNotKnowIsRefusedNamingTheField(submission: FindingSubmission, field: String) throws {
        guard case .failure(let failure) = try Self.decide(submission) else {
            Issue.record("accepted")
            return
        }
        #expect(failure.errors.map(\.field) == [field])
    }

    /// tuoitre's current source key, registered; vnexpress has none.
    static let currentKey = SourcePrivateKey(newsroom: tuoitre)

    static func decide(envelopeTo key: SourcePublicKey) throws -> Result<AcceptedFinding, ValidationFailure> {
        var submission = submission()
        submission.sourceEnvelope = try SourceEnvelope.seal(Array("a source".utf8), to: key)
        var reference = reference
        reference.currentSourceKeys = [tuoitre: currentKey.publicKey.id]
        return try FindingIntake.decide(submission, from: tuoitre, reference: reference, documents: documents)
    }

    @Test func anEnvelopeMustBeSealedToTheSendersCurrentKey() throws {
        #expect(try Self.decide(envelopeTo: Self.currentKey.publicKey).get().routed.isEmpty == false)
        let cases: [(SourcePublicKey, String, String)] = [
            (SourcePrivateKey(newsroom: Self.tuoitre).publicKey, "source_envelope.key_id", "current source key"),
            (SourcePrivateKey(newsroom: Self.code("vnexpress")).publicKey, "source_envelope.newsroom", "seal to that newsroom's own key"),
        ]
        for (key, field, reason) in cases {
            guard case .failure(let failure) = try Self.decide(envelopeTo: key) else {
                Issue.record("accepted an envelope sealed to \(key.id)")
                continue
            }
            #expect(failure.errors.map(\.field) == [field] && failure.errors[0].reason.contains(reason), "\(failure)")
        }
        var submission = Self.submission()
        submission.sourceEnvelope = try SourceEnvelope.seal(Array("a source".utf8), to: Self.currentKey.publicKey)
        guard case .failure(let failure) = try Self.decide(submission) else {
            Issue.record("accepted an envelope from a newsroom without a key")
            return
        }
        #expect(failure.errors.map(\.field) == ["source_envelope.key_id"] && failure.errors[0].reason.contains("no source key yet"))
    }

    @Test func everyBadFieldIsNamedAtOnce() throws {
        guard
            case .failure(let failure) = try Self.decide(
                Self.submission(category: "weather", jurisdiction: "atlantis", documents: [Self.othersDocument]))
        else {
            Issue.record("accepted")
            return
        }
        #expect(failure.errors.map(\.field) == ["category", "jurisdiction", "document_ids[0]"])
    }

    @Test func aFindingOnlyItsOwnSubjectCouldTakeIsRefusedAskingForTheCoordinator() throws {
        guard case .failure(let failure) = try Self.decide(Self.submission(category: "health", subject: "thanh-tra-tp")) else {
            Issue.record("accepted")
            return
        }
        #expect(failure.errors.map(\.field) == ["subject_agency"])
        #expect(failure.errors.first?.reason.contains("coordinator") == true)
    }
}
