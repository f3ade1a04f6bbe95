import ArgumentParser
import Foundation
import LipscopeEngine
import LipscopeLinearAlgebra

/// Exit statuses (README): 0 the method ran, 1 usage error, 2 input error, 3 solver failure.
enum ExitStatus {
    static let usage: Int32 = 1
    static let input: Int32 = 2
    static let solverFailure: Int32 = 3
}

struct Lipscope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lipscope",
        abstract: "Certified upper bounds on the Lipschitz constant of neural networks.",
        version: LipscopeVersion.string,
        subcommands: [WorkbenchCommand.self, InfoCommand.self, BoundCommand.self, CompareCommand.self, BenchCommand.self,
                      SolveCommand.self, ConvertCommand.self, SessionsCommand.self, ReportCommand.self,
                      SweepCommand.self, CertifyCommand.self, BatchCommand.self, TrainCommand.self],
        defaultSubcommand: WorkbenchCommand.self
    )
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (wall-clock timings on this machine).",
        subcommands: [BenchCompareCommand.self, BenchSolversCommand.self, BenchSDPCommand.self,
                      BenchLipoptCommand.self, BenchLipoptSDPCommand.self, BenchScaleCommand.self, BenchTrainCommand.self,
                      BenchExactCommand.self, BenchGraphsCommand.self, BenchCertifyCommand.self]
    )
}

/// Whether `type` is one of lipscope's commands (not a command the argument parser made up).
func isLipscopeCommand(_ type: ParsableCommand.Type, under root: ParsableCommand.Type = Lipscope.self) -> Bool {
    root.configuration.subcommands.contains { $0 == type || isLipscopeCommand(type, under: $0) }
}

@main
enum Main {
    static func main() {
        LinearAlgebra.configureThreads()
        var command: ParsableCommand
        do {
            command = try Lipscope.parseAsRoot()
        } catch {
            if Lipscope.exitCode(for: error) == .success { Lipscope.exit(withError: error) }
            FileHandle.standardError.write(Data((Lipscope.fullMessage(for: error) + "\n").utf8))
            exit(ExitStatus.usage)
        }
        // Help requests come back as the parser's own command, which prints to stdout itself.
        if !(command is WorkbenchCommand), isLipscopeCommand(type(of: command)) { ProgramOutput.separateLibraryOutput() }
        do {
            try command.run()
        } catch let error as InputError {
            FileHandle.standardError.write(Data("lipscope: \(error)\n".utf8))
            exit(ExitStatus.input)
        } catch let error as ExitCode {
            exit(error.rawValue)
        } catch let error as ValidationError {
            FileHandle.standardError.write(Data("lipscope: \(error)\n".utf8))
            exit(ExitStatus.usage)
        } catch {
            // Help and version requests surface here as the parser's own errors.
            if Lipscope.exitCode(for: error) == .success {
                ProgramOutput.restore()
                Lipscope.exit(withError: error)
            }
            FileHandle.standardError.write(Data("lipscope: \(error)\n".utf8))
            exit(ExitStatus.solverFailure)
        }
    }
}
