import ArgumentParser
import Foundation
import Logging
import Postgres
import TipwireCommandLine
import TipwireStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply database migrations (schemas/sql/NNNN_*.sql) in order.",
        discussion: """
            Each file runs in its own transaction under an advisory lock, so concurrent runs are safe.
            Applied files are recorded with their SHA-256 in schema_migrations; running again does nothing,
            and an applied file whose content changed is an error naming it (write a new migration instead).
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "Directory of migration files (env TIPWIRE_MIGRATIONS_DIR, default ./schemas/sql).")
    var migrations: String?

    @Option(
        name: .customLong("service-role"),
        help: """
            Then grant this existing role what the service needs, and no UPDATE, DELETE or TRUNCATE on the audit \
            log (env TIPWIRE_SERVICE_ROLE). Run as the schema owner; the service then connects as this role.
            """)
    var serviceRoleFlag: String?

    func run() async throws {
        try logging.bootstrap()
        let logger = Logger(label: "tipwire.migrate")
        try await database.withStores { stores in
            let directory = migrationsDirectory(migrations)
            let report = try await stores.database.migrate(directory: directory, logger: logger)
            print("migrations: \(report.applied.count) applied, \(report.alreadyApplied.count) already applied (\(directory.path))")
            for name in report.applied { print("  applied \(name)") }
            if let role = serviceRoleFlag ?? Environment.value("TIPWIRE_SERVICE_ROLE") {
                try await stores.database.grantService(role: role)
                print("granted the service's privileges to \(role)")
            }
        }
    }
}
