import ArgumentParser
import Foundation
import Logging
import TipwireCommandLine
import TipwireCore
import TipwireStore

struct Overdue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the duties past their due time, grouped by agency or newsroom, oldest first (as GET /v1/overdue).",
        discussion: """
            Each line is one duty: the task, the stage running late (acknowledge, resolve,
            newsroom_answer, agency_answer), its due time in Hanoi time, how many working
            days late it is, and how far up the escalation ladder it has gone. Reassign or
            close a task with POST /v1/tasks/{id}/reassign|close.

            Examples:
              tipwire overdue                     every holder, the 20 oldest duties each
              tipwire overdue --holder so-nnmt    one agency's
              tipwire overdue --json              the same as the API's JSON
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Only this agency's or newsroom's duties.")
    var holder: String?

    @Option(help: "Duties shown per holder (1 to 1000).")
    var limit = 20

    @Flag(help: "Print JSON, as GET /v1/overdue answers.")
    var json = false

    func validate() throws {
        if let holder, PartyCode(rawValue: holder) == nil { throw ValidationError("--holder: '\(holder)' is not an agency or newsroom code") }
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000") }
    }

    func run() async throws {
        try await database.withStores { stores in
            let board = try await stores.duties.overdue(at: Date(), holder: holder.flatMap(PartyCode.init(rawValue:)), perGroup: limit)
            if json {
                print(String(decoding: try TipwireJSON.encode(board), as: UTF8.self))
                return
            }
            if board.groups.isEmpty {
                print("No duty is overdue as of \(Self.hanoi(board.asOf)) (Hanoi time).")
                return
            }
            let total = board.groups.map(\.count).reduce(0, +)
            print("\(total) overdue \(total == 1 ? "duty" : "duties") as of \(Self.hanoi(board.asOf)) (Hanoi time)")
            for group in board.groups {
                print("")
                print("\(group.holder.code) (\(group.holder.kind)): \(group.count) overdue, oldest due \(Self.hanoi(group.oldestDueAt))")
                for item in group.items {
                    let ladder = item.lastRung.map { "\($0.rawValue) → \(item.lastAudience ?? "?")" } ?? "not yet raised"
                    let late = "\(item.overdueByWorkingDays) working \(item.overdueByWorkingDays == 1 ? "day" : "days") late"
                    print(
                        "  \(item.taskID)  \(item.stage.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0))  due \(Self.hanoi(item.dueAt))  \(late)  [\(ladder)]  \(item.findingTitle.prefix(60))"
                    )
                }
                if group.count > group.items.count { print("  … and \(group.count - group.items.count) more (--limit)") }
            }
        }
    }

    static func hanoi(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }
}
