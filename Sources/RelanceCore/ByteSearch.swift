#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension StringProtocol {
    /// Whether `needle` occurs in the text, compared as UTF-8 bytes. Foundation's
    /// `contains(_:)` for strings goes through NSString and CFStringFind, which the
    /// dispatch path paid for on every message (job data, header values); a generic
    /// slice comparison was no better (11 % of the e-mail benchmark's CPU went to
    /// looking for a quoted key in JSON, where every quote is a first-byte match).
    /// Here libc finds each candidate first byte (`memchr`) and compares the rest (`memcmp`).
    public func containsBytes(_ needle: String) -> Bool {
        if let found = utf8.withContiguousStorageIfAvailable({ haystack in Self.search(haystack, for: needle) }) {
            return found
        }
        return Array(utf8).withUnsafeBufferPointer { Self.search($0, for: needle) }
    }

    private static func search(_ haystack: UnsafeBufferPointer<UInt8>, for needle: String) -> Bool {
        var needle = needle
        return needle.withUTF8 { needle in
            guard needle.count > 0 else { return true }
            guard haystack.count >= needle.count, let base = haystack.baseAddress else { return false }
            let first = Int32(needle[0])
            let last = haystack.count - needle.count  // the last offset where the needle fits
            var offset = 0
            while offset <= last {
                guard let hit = memchr(base + offset, first, last - offset + 1) else { return false }
                let at = UnsafeRawPointer(hit).assumingMemoryBound(to: UInt8.self)
                if memcmp(at, needle.baseAddress!, needle.count) == 0 { return true }
                offset = at - base + 1
            }
            return false
        }
    }
}
