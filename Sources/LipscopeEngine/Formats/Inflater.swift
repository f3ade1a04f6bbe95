import CZlib

/// zlib inflation (Debian's zlib through the CZlib system-library target).
enum Inflater {
    enum Failure: Error { case corrupt(String), truncated, tooLarge(Int) }

    /// Inflates a zlib stream (`raw == false`, MAT v5 compressed elements) or a raw deflate
    /// stream (`raw == true`, ZIP entries). The output may not exceed `limit` bytes.
    static func inflate(_ input: ArraySlice<UInt8>, raw: Bool, expectedSize: Int? = nil, limit: Int) -> Result<[UInt8], Failure> {
        if input.isEmpty { return .failure(.truncated) }
        var source = Array(input)
        // Deflate expands at most ~1032:1, so never reserve more than that up front.
        let plausible = min(limit, source.count.multipliedReportingOverflow(by: 1032).partialValue + 1024)
        let initial = max(256, min(plausible, expectedSize ?? source.count.multipliedReportingOverflow(by: 4).partialValue))
        var output = [UInt8](repeating: 0, count: max(1, initial))
        var produced = 0
        var stream = z_stream()
        var outcome: Result<Void, Failure> = .success(())
        source.withUnsafeMutableBufferPointer { inBuffer in
            guard lipscope_inflate_init(&stream, raw ? -15 : 15) == Z_OK else {
                outcome = .failure(.corrupt("zlib could not start")); return
            }
            defer { inflateEnd(&stream) }
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            while true {
                if produced == output.count {
                    if output.count >= limit { outcome = .failure(.tooLarge(limit)); return }
                    let grow = min(output.count, limit - output.count)
                    output.append(contentsOf: repeatElement(0, count: grow))
                }
                let status: Int32 = output.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress! + produced
                    stream.avail_out = uInt(outBuffer.count - produced)
                    let s = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced = outBuffer.count - Int(stream.avail_out)
                    return s
                }
                if status == Z_STREAM_END { return }
                if status == Z_OK { continue }
                if status == Z_BUF_ERROR {
                    if stream.avail_out == 0 { continue }  // needs more room: grow and go on
                    outcome = .failure(.truncated); return
                }
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                outcome = .failure(.corrupt(message)); return
            }
        }
        switch outcome {
        case .failure(let f): return .failure(f)
        case .success: return .success(Array(output[0..<produced]))
        }
    }

    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: uLong = CZlib.crc32(0, nil, 0)
        bytes.withUnsafeBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = min(buffer.count - offset, 1 << 30)
                crc = CZlib.crc32(crc, buffer.baseAddress! + offset, uInt(n))
                offset += n
            }
        }
        return UInt32(truncatingIfNeeded: crc)
    }
}
