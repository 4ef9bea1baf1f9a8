extension StringProtocol {
    /// Whether `needle` occurs in the text, compared as UTF-8 bytes. Foundation's
    /// `contains(_:)` for strings goes through NSString and CFStringFind, which the
    /// dispatch path paid for on every message (job data, header values).
    public func containsBytes(_ needle: String) -> Bool {
        let found = utf8.withContiguousStorageIfAvailable { haystack in Self.search(haystack, for: needle) }
        return found ?? Self.search(Array(utf8), for: needle)
    }

    private static func search<C: RandomAccessCollection<UInt8>>(_ haystack: C, for needle: String) -> Bool
    where C.Index == Int {
        let needle = Array(needle.utf8)
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count else { return false }
        let start = haystack.startIndex
        for i in start...(start + haystack.count - needle.count)
        where haystack[i] == first && haystack[i..<i + needle.count].elementsEqual(needle) {
            return true
        }
        return false
    }
}
