import Foundation
import CLapack

/// Keeps freed large blocks in the process heap while `body` runs. ECLipsE on conv nets allocates
/// and frees dozens of n × n matrices (n = 2048: 32 MiB each); glibc serves each by a fresh mmap,
/// whose pages are faulted in and zeroed again — a fifth of the run on the oval21 CIFAR nets. With
/// mmap off and no trimming the heap reuses them; afterwards the defaults come back and the
/// unused heap is returned (malloc_trim). Nested or concurrent scopes share one setting.
enum HeapRetention {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var depth = 0

    static func during<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        if depth == 0 {
            _ = mallopt(M_MMAP_MAX, 0)
            _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        }
        depth += 1
        lock.unlock()
        defer {
            lock.lock()
            depth -= 1
            if depth == 0 {
                // Any mallopt turns glibc's dynamic mmap threshold off for good, so put back
                // the values it grows to by itself (32 MiB, trim at twice that) rather than the
                // 128 KiB start: with those, the structured LipSDP solve after an ECLipsE run
                // mmapped and zeroed every d × d buffer anew (ERAN 9×200: 27.6 s → 37.9 s).
                _ = mallopt(M_MMAP_MAX, 65536)
                _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
                _ = mallopt(M_TRIM_THRESHOLD, 64 << 20)
                _ = malloc_trim(0)
            }
            lock.unlock()
        }
        return try body()
    }
}
