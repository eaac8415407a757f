import Foundation
import Subprocess
import SystemPackage

/// How a program that ran to completion ended, and what it printed.
public struct ProgramResult: Sendable {
    /// The exit code, or 128 + the signal's number when a signal ended it (as shells report it).
    public var status: Int32
    /// Standard output; with `combineErrors`, standard error interleaved into it.
    public var output: String
    /// Standard error, unless combined into `output`.
    public var errors: String
}

/// Why a program could not be run at all.
public struct ProgramNotRun: Error, CustomStringConvertible {
    public let description: String
}

/// The environment of a program tipwire's tools and tests start: this process's own, without any of the
/// caller's tipwire settings (`TIPWIRE_*`), plus `settings`. A child gets only the settings its starter
/// means it to have: a shell that sourced a live stack's `.tipwire/env` must not point a test's server at
/// that stack's database or broker.
public func childEnvironment(
    _ settings: [String: String] = [:], inheriting environment: [String: String] = ProcessInfo.processInfo.environment
) -> [String: String] {
    environment.filter { !$0.key.hasPrefix("TIPWIRE_") }.merging(settings) { _, given in given }
}

/// Runs a program to completion (standard input empty) and returns its status and output: the one way
/// tipwire's tools and tests run a program that ends by itself (pgbench, kcat, pg_ctl, the Python checkers).
/// The program's environment is `childEnvironment(settings)`.
///
/// Built on swift-subprocess, which resets the child's signal mask: threads of Dispatch block signals,
/// and a child inheriting that mask would never see the SIGALRM that ends `pgbench -T`.
/// `executable` is a path, or a name looked up in PATH. With `outputFile`, standard output and error go
/// to that file instead of a pipe, and `output` is empty: a program that leaves a daemon behind holding
/// its output (`pg_ctl start`) would otherwise keep the pipe, and the wait, open forever.
public func runProgram(
    _ executable: String, _ arguments: [String], settings: [String: String] = [:], combineErrors: Bool = false, outputFile: String? = nil,
    outputLimit: Int = 64 << 20
) async throws -> ProgramResult {
    let program: Executable = executable.contains("/") ? .path(FilePath(executable)) : .name(executable)
    let environment = Environment.custom(
        Dictionary(uniqueKeysWithValues: childEnvironment(settings).map { (Environment.Key(stringLiteral: $0.key), $0.value) }))
    do {
        if let outputFile {
            let file = try FileDescriptor.open(
                FilePath(outputFile), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite, .groupRead, .otherRead])
            let result = try await run(
                program, arguments: Arguments(arguments), environment: environment, input: .none,
                output: .fileDescriptor(file, closeAfterSpawningProcess: true),
                error: .combinedWithOutput)
            return ProgramResult(status: code(result.terminationStatus), output: "", errors: "")
        }
        if combineErrors {
            let result = try await run(
                program, arguments: Arguments(arguments), environment: environment, input: .none, output: .string(limit: outputLimit),
                error: .combinedWithOutput)
            return ProgramResult(status: code(result.terminationStatus), output: result.standardOutput ?? "", errors: "")
        }
        let result = try await run(
            program, arguments: Arguments(arguments), environment: environment, input: .none, output: .string(limit: outputLimit),
            error: .string(limit: outputLimit))
        return ProgramResult(status: code(result.terminationStatus), output: result.standardOutput ?? "", errors: result.standardError ?? "")
    } catch let error as SubprocessError {
        throw ProgramNotRun(description: "cannot run \(executable): \(error); is it installed?")
    } catch let error as Errno {
        throw ProgramNotRun(description: "cannot write \(outputFile ?? "the output"): \(error)")
    }
}

private func code(_ status: TerminationStatus) -> Int32 {
    switch status {
    case .exited(let code): Int32(code)
    case .signaled(let signal): 128 + Int32(signal)
    }
}
