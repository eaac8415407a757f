import ArgumentParser
import Foundation
import TipwireCommandLine
import TipwireCore
import TipwireStore

struct CalendarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "Vietnam's working-day calendar: public holidays and swapped working days, as data.",
        discussion: """
            Deadlines count working days: Monday to Friday, less public holidays, plus official swapped
            working Saturdays. 2025–2027 are seeded (2027 provisionally); load each year's schedule when the
            Ministry of Home Affairs publishes it.

            A file has one day a line, `date,kind,name`, kind being holiday or working:
              2026-08-31,holiday,Quốc khánh (hoán đổi)
              2026-08-22,working,Làm bù cho thứ Hai 31/8/2026

            Examples:
              tipwire calendar import lich-2027.csv
              tipwire calendar list --year 2026
            """,
        subcommands: [Import.self, List.self, Reporting.self])

    struct Reporting: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or set the day reporting months start on (the reporting periods of stats and the dashboard).",
            discussion: """
                Decree 09/2019/NĐ-CP (Article 12) closes a month's figures from the 15th of the month before to
                the 14th, and quarters, half-years, nine months and the year the same way: tipwire's default.
                --start-day 1 gives calendar months. The change is audited and applies to every report from then
                on, past periods included (figures are computed for the period asked).

                Examples:
                  tipwire calendar reporting                   the cut-off, this reporting year and this reporting month
                  tipwire calendar reporting --start-day 1     calendar months
                """)
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The day of the month before on which a reporting month starts (1–28).") var startDay: Int?

        func validate() throws {
            if let startDay { try checkRange(startDay, ReportingCalendar.startDays, "--start-day") }
        }

        func run() async throws {
            try await database.withStores { stores in
                if let startDay { try await stores.calendar.setReportingCalendar(ReportingCalendar(startDay: startDay)) }
                let calendar = try await stores.calendar.reportingCalendar()
                let today = WorkingCalendar.dayOf(Date())
                let year = NamedPeriod(reporting: true, year: calendar.year(containing: today), span: .year)
                let month = calendar.month(containing: today)
                print("reporting months start on day \(calendar.startDay) of the month before" + (calendar.startDay == 1 ? " (calendar months)" : ""))
                print("\(year): \(year.period(in: calendar))")
                print("\(month) (this reporting month): \(month.period(in: calendar))")
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add or replace days from a CSV file (all lines or none).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The CSV file: date,kind,name per line.") var file: String

        func run() async throws {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read \(file) as UTF-8 text: \(error.localizedDescription)")
            }
            let entries: [CalendarFile.Entry]
            do {
                entries = try CalendarFile.parse(text)
            } catch {
                throw ValidationError("\(file): nothing imported; " + error.errors.map(\.description).joined(separator: "; "))
            }
            try await database.withStores { stores in
                let counts = try await stores.calendar.importEntries(entries)
                print("imported \(counts.holidays) holidays and \(counts.workingDays) working days from \(file)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a year's holidays and swapped working days, in the import format.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The year (default: this year).") var year: Int?

        func run() async throws {
            try await database.withStores { stores in
                let chosen = year ?? WorkingCalendar.dayOf(Date()).year
                print("date,kind,name")
                for entry in try await stores.calendar.entries(year: chosen) {
                    print("\(entry.day),\(entry.kind.rawValue),\(entry.name)")
                }
            }
        }
    }
}
