#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import STEMCore

/// What a format detector looks at: the path, whether it is a folder, and the first bytes of the file
/// (empty for folders). Built once per open, so detection reads the file head once for all formats.
public struct FileProbe: Sendable {
    public let path: String
    public let isDirectory: Bool
    /// Up to `FileProbe.headLength` bytes from the start of the file.
    public let head: [UInt8]
    public static let headLength = 4096

    public init(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw STEMError.fileNotFound(path: path) }
        self.path = path
        self.isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        self.head = isDirectory ? [] : try PositionalFile(path: path).prefix(FileProbe.headLength)
    }

    public init(path: String, isDirectory: Bool, head: [UInt8]) {
        self.path = path
        self.isDirectory = isDirectory
        self.head = head
    }

    /// Lower-cased file extension without the dot.
    public var pathExtension: String {
        guard let name = path.split(separator: "/").last, let dot = name.lastIndex(of: ".") else { return "" }
        return String(name[name.index(after: dot)...]).lowercased()
    }

    public func headStarts(with magic: [UInt8]) -> Bool {
        head.count >= magic.count && Array(head.prefix(magic.count)) == magic
    }
}

/// One input format: a name users can type, a content-based detector and an opener.
public struct PatternFormat: Sendable {
    public let name: String
    public let summary: String
    public let detect: @Sendable (FileProbe) -> Bool
    public let open: @Sendable (String, ReaderOptions) throws -> PatternSource

    public init(name: String, summary: String, detect: @escaping @Sendable (FileProbe) -> Bool,
                open: @escaping @Sendable (String, ReaderOptions) throws -> PatternSource) {
        self.name = name
        self.summary = summary
        self.detect = detect
        self.open = open
    }
}

/// The formats stemrun reads, in detection order (most specific magic first).
public enum FormatRegistry {
    /// The instrument formats of this target. Callers add their own (HDF5, raw) with `all(adding:)`.
    public static let builtIn: [PatternFormat] = [
        MerlinPatternSource.format,
        BlockfilePatternSource.format,
        EMPADPatternSource.format,
        DMPatternSource.format,
        DMFolderPatternSource.format,
        ImageSequencePatternSource.format,
    ]

    /// The format called `name` (case-insensitive) among `formats`.
    public static func format(named name: String, in formats: [PatternFormat] = builtIn) -> PatternFormat? {
        formats.first { $0.name.lowercased() == name.lowercased() }
    }

    /// The first format in `formats` whose detector accepts the file.
    public static func detect(path: String, in formats: [PatternFormat] = builtIn) throws -> PatternFormat? {
        let probe = try FileProbe(path: path)
        return formats.first { $0.detect(probe) }
    }

    /// Opens `path` as `format` (a name from `formats`), or as the detected format when `format` is nil.
    public static func open(path: String, format: String? = nil, options: ReaderOptions = ReaderOptions(),
                            formats: [PatternFormat] = builtIn) throws -> PatternSource {
        let names = formats.map(\.name).joined(separator: ", ")
        if let format {
            guard let f = self.format(named: format, in: formats) else {
                throw STEMError.invalidParameter(name: "format", value: format, expected: "one of \(names)")
            }
            return try f.open(path, options)
        }
        guard let f = try detect(path: path, in: formats) else {
            throw STEMError.badFormat(path: path, location: "file content", expected: "one of the formats \(names)",
                                      found: "no known magic bytes or header (give --format to override)")
        }
        return try f.open(path, options)
    }
}

/// Opens any supported pattern file or folder, detecting the format from its content unless `format` names it.
public func openPatternSource(path: String, format: String? = nil, options: ReaderOptions = ReaderOptions(),
                              formats: [PatternFormat] = FormatRegistry.builtIn) throws -> PatternSource {
    try FormatRegistry.open(path: path, format: format, options: options, formats: formats)
}
