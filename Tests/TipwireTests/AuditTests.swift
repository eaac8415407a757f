import ChildProcesses
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import Testing
import TipwireAPI
import TipwireCore
import TipwireStore

@Suite("The tamper-evident audit log", .timeLimit(.minutes(3)))
struct AuditTests {
    /// Token steps, a policy change, a reassignment, a close and a download, each as its owner would do it.
    static func recordOneOfEach(_ fixture: Fixture) async throws -> (document: String, task: String) {
        let stores = fixture.stores
        let (_, created) = try await stores.tokens.create(role: .auditor, scope: nil, holder: "Lê Văn C", label: "audit test", by: "operator:test")
        let (_, rotated) = try await stores.tokens.rotate(id: created.id, by: "operator:test")
        #expect(try await stores.tokens.revoke(id: rotated.id, by: "operator:test"))
        let policy = try #require(try await stores.policies.find(category: nil, stage: .acknowledge))
        _ = try await stores.policies.save(policy, by: "admin:ops (Phạm D)")

        return try await fixture.app().test(.router) { client in
            let liaison = fixture.token("liaison", "tuoitre")
            let upload = try await client.send(
                Call(method: .post, path: "/v1/documents", token: liaison, body: Array("biên bản".utf8), contentType: "text/plain"))
            let document = try #require(try upload.json()["id"] as? String)
            let finding = try await client.send(.post("/v1/findings", token: liaison, json: findingJSON(documents: [document]))).json()
            let tasks = try #require(finding["tasks"] as? [[String: Any]])
            let ward = try #require(tasks.first { $0["agency"] as? String == "ubnd-cau-giay" }?["id"] as? String)
            let department = try #require(tasks.first { $0["agency"] as? String == "so-nnmt" }?["id"] as? String)
            let coordinator = fixture.token("coordinator", "thanh-tra-tp")
            let reassigned = try await client.send(
                .post("/v1/tasks/\(ward)/reassign", token: coordinator, json: #"{"agency": "ubnd-dong-da", "reason": "đúng địa bàn"}"#))
            #expect(reassigned.status == .ok, "\(reassigned.text)")
            let closed = try await client.send(.post("/v1/tasks/\(department)/close", token: coordinator, json: #"{"reason": "trùng lặp"}"#))
            #expect(closed.status == .ok, "\(closed.text)")
            #expect(try await client.send(.get("/v1/documents/\(document)", token: liaison)).status == .ok)
            return (document: document, task: ward)
        }
    }

    static func rows(_ fixture: Fixture) async throws -> [(id: Int64, actor: String, action: String, object: String)] {
        try await fixture.client.query("SELECT id, actor, action, object FROM audit_log ORDER BY id").decode((Int64, String, String, String).self)
            .map { (id: $0.0, actor: $0.1, action: $0.2, object: $0.3) }
    }

    @Test func everyAuditedActionLeavesOneRowNamingItsActorAndTheChainVerifies() async throws {
        try await Fixture.with { fixture in
            let before = try await Self.rows(fixture).count  // the demo tokens' creation
            let ids = try await Self.recordOneOfEach(fixture)
            let rows = Array(try await Self.rows(fixture).dropFirst(before))
            #expect(
                rows.map(\.action) == [
                    "token.created", "token.rotated", "token.revoked", "policy.changed", "task.reassigned", "task.closed", "document.read",
                ])
            #expect(rows.first { $0.action == "document.read" }?.object == "documents/\(ids.document)")
            #expect(rows.first { $0.action == "document.read" }?.actor.hasPrefix("liaison:tuoitre") == true)
            #expect(rows.first { $0.action == "task.reassigned" }?.object == "tasks/\(ids.task)")
            #expect(rows.first { $0.action == "task.reassigned" }?.actor.hasPrefix("coordinator:thanh-tra-tp") == true)
            #expect(rows.first { $0.action == "policy.changed" }?.actor == "admin:ops (Phạm D)")
            guard case .intact(let count, let head) = try await fixture.stores.audit.verify() else {
                Issue.record("the chain does not verify")
                return
            }
            #expect(count == before + rows.count)
            #expect(head == (try await fixture.stores.audit.head()))
            // Nothing a row holds is document or summary content.
            let text = try await fixture.client.query("SELECT string_agg(detail::text, ' ') FROM audit_log")[0].decode(column: 0, as: String.self)
            #expect(!text.contains("biên bản") && !text.contains("2.000 m²"))
        }
    }

    @Test func concurrentWritersChainInCommitOrder() async throws {
        try await Fixture.with(maxConnections: 12) { fixture in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<60 {
                    group.addTask {
                        try await fixture.stores.audit.record(.documentRead("\(index)", bytes: 0..<1, by: "test:\(index)"))
                    }
                }
                try await group.waitForAll()
            }
            guard case .intact(let count, _) = try await fixture.stores.audit.verify(batch: 7) else {
                Issue.record("concurrent writers broke the chain")
                return
            }
            #expect(count >= 60)
        }
    }

    /// PostgreSQL refuses the service's role by privilege ("permission denied"); the owner, who holds every
    /// privilege, is still stopped by the append-only triggers.
    @Test func theLogRefusesUpdateDeleteAndTruncateFromTheServiceByPrivilegeAndFromTheOwnerByTrigger() async throws {
        try await Fixture.with { fixture in
            _ = try await Self.recordOneOfEach(fixture)
            for statement: PostgresQuery in [
                "UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log WHERE action = 'document.read'", "TRUNCATE audit_log",
            ] {
                let denied = try await #require(throws: PostgresError.self) { try await fixture.service.execute(statement) }
                #expect(denied.sqlState == "42501" && denied.message.contains("permission denied for table audit_log"), "\(denied)")
                let refused = try await #require(throws: PostgresError.self) { try await fixture.client.execute(statement) }
                #expect(refused.sqlState == "42501" && refused.message.contains("append-only"), "\(refused)")
            }
            #expect(try await fixture.stores.database.ownsAuditLog() == false)
            #expect(try await TipwireDatabase(client: fixture.client).ownsAuditLog())
            guard case .intact = try await fixture.stores.audit.verify() else {
                Issue.record("a refused change still broke the chain")
                return
            }
        }
    }

    @Test func changingOneByteOrRemovingARowIsFoundAndNamedByTheCommandLine() async throws {
        let binary = try tipwireBinary()
        try await Fixture.with { fixture in
            _ = try await Self.recordOneOfEach(fixture)
            let schema = try await fixture.client.query("SELECT current_schema()")[0].decode(column: 0, as: String.self)
            let url = try TestDatabase.url() + "?options=-csearch_path%3D\(schema)"
            let intact = try await runProgram(binary, ["audit", "verify", "--database-url", url], combineErrors: true)
            #expect(intact.status == 0 && intact.output.contains("audit log intact"), "\(intact.output)")
            let head = try await runProgram(binary, ["audit", "head", "--database-url", url], combineErrors: true)
            let published = try #require(try await fixture.stores.audit.head())
            #expect(head.output.trimmingCharacters(in: .whitespacesAndNewlines) == "\(published.id) \(published.hex)")

            // A superuser, with the append-only triggers switched off, changes one byte of a row's detail.
            let rows = try await Self.rows(fixture)
            let target = rows[rows.count / 2].id
            try await fixture.client.withTransaction { connection in
                try await connection.execute("SET LOCAL session_replication_role = replica")
                try await connection.execute(
                    "UPDATE audit_log SET detail = jsonb_set(detail, '{tampered}', 'true'::jsonb) WHERE id = \(target)")
            }
            guard case .broken(let id, let reason) = try await fixture.stores.audit.verify() else {
                Issue.record("a changed row went unnoticed")
                return
            }
            #expect(id == target)
            #expect(reason.contains("content"))
            let broken = try await runProgram(binary, ["audit", "verify", "--database-url", url], combineErrors: true)
            #expect(broken.status == 1 && broken.output.contains("BROKEN at row \(target)"), "\(broken.output)")
        }
        try await Fixture.with { fixture in
            _ = try await Self.recordOneOfEach(fixture)
            let rows = try await Self.rows(fixture)
            let removed = rows[rows.count - 3].id
            try await fixture.client.withTransaction { connection in
                try await connection.execute("SET LOCAL session_replication_role = replica")
                try await connection.execute("DELETE FROM audit_log WHERE id = \(removed)")
            }
            guard case .broken(let id, let reason) = try await fixture.stores.audit.verify() else {
                Issue.record("a removed row went unnoticed")
                return
            }
            #expect(id == rows[rows.count - 2].id)
            #expect(reason.contains("prev_hash"))
        }
    }

    @Test func auditorsReadTheLogByActorActionObjectAndTimeInPagesAndNobodyElseCan() async throws {
        try await Fixture.with { fixture in
            let ids = try await Self.recordOneOfEach(fixture)
            try await fixture.app().test(.router) { client in
                let auditor = fixture.token("auditor")
                for other in [fixture.token("coordinator", "thanh-tra-tp"), fixture.token("liaison", "tuoitre"), fixture.token("admin")] {
                    #expect(try await client.send(.get("/v1/audit", token: other)).status == .forbidden)
                }
                let all = try await client.send(.get("/v1/audit?limit=200", token: auditor)).json()
                let items = try #require(all["items"] as? [[String: Any]])
                let ids64 = items.compactMap { $0["id"] as? Int }
                #expect(ids64 == ids64.sorted(by: >), "newest first")
                #expect(all["next_cursor"] is NSNull)
                // Each row shows its hash and its predecessor's, so the chain can be checked from the rows alone.
                for (newer, older) in zip(items, items.dropFirst()) {
                    #expect(newer["prev_hash"] as? String == older["hash"] as? String)
                }

                let downloads = try await client.send(.get("/v1/audit?actor=liaison:tuoitre&action=document.read", token: auditor)).json()
                #expect((downloads["items"] as? [[String: Any]])?.map { $0["object"] as? String } == ["documents/\(ids.document)"])
                let task = try await client.send(.get("/v1/audit?object=tasks/\(ids.task)", token: auditor)).json()
                #expect((task["items"] as? [[String: Any]])?.map { $0["action"] as? String } == ["task.reassigned"])
                let future = try await client.send(.get("/v1/audit?since=2999-01-01T00:00:00Z", token: auditor)).json()
                #expect((future["items"] as? [Any])?.isEmpty == true)

                // Two at a time, following next_cursor, gives every row once.
                var seen: [Int] = []
                var cursor: String?
                repeat {
                    let page = try await client.send(.get("/v1/audit?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), token: auditor)).json()
                    seen += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
                    cursor = page["next_cursor"] as? String
                } while cursor != nil
                #expect(seen == ids64)

                let bad = try await client.send(.get("/v1/audit?action=token.stolen&cursor=nope", token: auditor))
                #expect(bad.status == .badRequest)
                #expect(Set(try bad.problemFields()) == ["action", "cursor"])
            }
        }
    }
}
