import Foundation
import LipscopeEngine
import LipscopeTestSupport
import Testing

/// The digests session logs store, against published values: the FIPS 180-4 example messages
/// (one block, two blocks, a million bytes) and `sha256sum` of a fixture file.
@Suite struct SHA256Tests {
    @Test func fipsExampleMessages() {
        #expect(SHA256.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let twoBlocks = Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(twoBlocks) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let million = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(SHA256.digest(Data("abc".utf8)).count == 32)
    }

    @Test func fileDigestMatchesSha256sum() {
        // sha256sum Tests/Fixtures/testnets/tiny_relu_1.json
        #expect(SHA256.hex(ofFile: Fixtures.path("testnets/tiny_relu_1.json"))
                == "27524c0d6d7fe11924b461fa483f3dd7e0cc52e2b51b94682108d6a741cd3048")
        #expect(SHA256.hex(ofFile: "/nonexistent/network.json") == nil)
    }
}
