import STEMCore

/// The parts of a Gatan DigitalMicrograph `.dm3`/`.dm4` tag tree that locate image data.
///
/// File layout (rosettasciio's `digitalmicrograph` plugin is the reference): a header of version
/// (u32 BE, 3 or 4), file size (u32 / u64 BE), byte order of the data (u32 BE, 1 = little-endian); the root
/// tag group (sorted u8, open u8, tag count u32 / u64); then tags. A tag is a type byte (20 = group,
/// 21 = data), a name (u16 BE length + bytes), in DM4 an 8-byte tag size; a group continues with
/// sorted/open bytes, (DM4: an 8-byte size) and its tag count; a data tag with "%%%%", the length of its
/// type description and the description (all u32 / u64 BE), then the values in the file's byte order.
/// Arrays are skipped, remembering only where `ImageList/*/ImageData/Data` lies.
public struct DMTagTree: Sendable {
    /// One image of the `ImageList`.
    public struct Image: Sendable, Equatable {
        /// Dimensions in DM order (x fastest): `ImageData/Dimensions`.
        public var dimensions: [Int] = []
        /// `ImageData/DataType` code.
        public var dataType: Int = -1
        /// File offset and byte length of `ImageData/Data`.
        public var dataOffset: Int = -1
        public var dataBytes: Int = 0
        public var dataCount: Int = 0
    }

    public var version: Int
    public var byteOrder: ByteOrder
    public var images: [Image]

    static let maximumDepth = 48

    /// Element sizes of DM simple types.
    static func simpleSize(_ type: Int) -> Int? {
        switch type {
        case 8, 9, 10: return 1
        case 2, 4: return 2
        case 3, 5, 6: return 4
        case 7, 11, 12: return 8
        default: return nil
        }
    }

    /// The stemrun element type of an image `DataType` code, nil for complex / RGB / unknown.
    public static func elementType(dataType: Int) -> ElementType? {
        switch dataType {
        case 1: return .int16
        case 2: return .float32
        case 6, 14: return .uint8
        case 7: return .int32
        case 9: return .int8
        case 10: return .uint16
        case 11: return .uint32
        case 12: return .float64
        default: return nil
        }
    }

    public static func parse<Source: RandomAccessBytes>(_ source: Source) throws -> DMTagTree {
        var parser = Parser(cursor: WindowedCursor(source))
        return try parser.run()
    }

    struct Parser<Source: RandomAccessBytes> {
        var cursor: WindowedCursor<Source>
        var version = 3
        var order = ByteOrder.big
        var images: [Image] = []
        var path: String { cursor.source.path }

        mutating func lq() throws -> Int {
            let at = cursor.position
            let v = try cursor.unsigned(version == 4 ? 8 : 4, .big)
            guard v <= UInt64(Int32.max) * 16 else {
                throw STEMError.field(path, "tag length/count", at: at, expected: "a count below 2^35", found: "\(v)")
            }
            return Int(v)
        }

        mutating func run() throws -> DMTagTree {
            let v = try cursor.unsigned(4, .big)
            guard v == 3 || v == 4 else {
                throw STEMError.field(path, "version", at: 0, expected: "DigitalMicrograph version 3 or 4", found: "\(v)")
            }
            version = Int(v)
            _ = try lq()  // file size, not trusted
            let at = cursor.position
            let little = try cursor.unsigned(4, .big)
            guard little <= 1 else { throw STEMError.field(path, "byte order", at: at, expected: "0 or 1", found: "\(little)") }
            order = little == 1 ? .little : .big
            try cursor.skip(2)
            let count = try lq()
            try group(count: count, names: [], depth: 0)
            return DMTagTree(version: version, byteOrder: order, images: images)
        }

        /// `names` is the path of group names from the root ("ImageList", "TagGroup0", "ImageData").
        mutating func group(count: Int, names: [String], depth: Int) throws {
            guard depth < DMTagTree.maximumDepth else {
                throw STEMError.field(path, "tag group nesting", at: cursor.position, expected: "at most \(DMTagTree.maximumDepth) levels", found: "deeper")
            }
            var unnamedGroups = 0
            for _ in 0 ..< count {
                let at = cursor.position
                let kind = try cursor.unsigned(1, .big)
                let nameLength = Int(try cursor.unsigned(2, .big))
                var name = String(decoding: try cursor.bytes(nameLength).map { $0 < 0x80 ? $0 : 0x3F }, as: Unicode.ASCII.self)
                switch kind {
                case 20:
                    if name.isEmpty { name = "TagGroup\(unnamedGroups)"; unnamedGroups += 1 }
                    if version == 4 { try cursor.skip(8) }
                    try cursor.skip(2)
                    let n = try lq()
                    let child = names + [name]
                    if child.count == 2 && child[0] == "ImageList" { images.append(Image()) }
                    try group(count: n, names: child, depth: depth + 1)
                case 21:
                    try data(name: name, names: names)
                default:
                    throw STEMError.field(path, "tag type", at: at, expected: "20 (group) or 21 (data)", found: "\(kind)")
                }
            }
        }

        mutating func simpleValue(type: Int, at: Int) throws -> Double {
            guard let size = DMTagTree.simpleSize(type) else {
                throw STEMError.field(path, "data type", at: at, expected: "a DM simple type (2-12)", found: "\(type)")
            }
            let raw = try cursor.unsigned(size, order)
            switch type {
            case 2: return Double(Int16(truncatingIfNeeded: raw))
            case 3: return Double(Int32(truncatingIfNeeded: raw))
            case 6: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw)))
            case 7: return Double(bitPattern: raw)
            case 9, 10: return Double(Int8(truncatingIfNeeded: raw))
            case 11: return Double(Int64(bitPattern: raw))
            default: return Double(raw)
            }
        }

        mutating func skipBytes(_ count: Int?, field: String) throws {
            guard let count else {
                throw STEMError.field(path, field, at: cursor.position, expected: "a size that fits in the file", found: "an overflowing size")
            }
            try cursor.skip(count)
        }

        mutating func data(name: String, names: [String]) throws {
            if version == 4 { try cursor.skip(8) }
            let at = cursor.position
            let delimiter = Array(try cursor.bytes(4))
            guard delimiter == Array("%%%%".utf8) else {
                throw STEMError.field(path, "data tag '\(name)'", at: at, expected: "'%%%%'", found: printable(delimiter))
            }
            let infoLength = try lq()
            let typeAt = cursor.position
            let inImageData = names.count == 3 && names[0] == "ImageList" && names[2] == "ImageData" && !images.isEmpty
            let inDimensions = names.count == 4 && names[0] == "ImageList" && names[2] == "ImageData"
                && names[3] == "Dimensions" && !images.isEmpty
            switch infoLength {
            case 1:
                let type = try lq()
                let value = try simpleValue(type: type, at: typeAt)
                if inImageData && name == "DataType" {
                    // Any type may hold it in a hostile file: NaN or huge values become "unknown" (-1).
                    images[images.count - 1].dataType = value.magnitude < 1e9 ? Int(exactly: value) ?? -1 : -1
                }
                if inDimensions {
                    guard value >= 0, value <= Double(Int32.max) else {
                        throw STEMError.field(path, "ImageData/Dimensions", at: typeAt, expected: "a non-negative size", found: "\(value)")
                    }
                    images[images.count - 1].dimensions.append(Int(value))
                }
            case 2:
                let type = try lq()
                guard type == 18 else { throw STEMError.field(path, "string tag '\(name)'", at: typeAt, expected: "type 18", found: "\(type)") }
                try skipBytes(try lq(), field: "string length")
            case 3:
                let type = try lq()
                guard type == 20 else { throw STEMError.field(path, "array tag '\(name)'", at: typeAt, expected: "type 20", found: "\(type)") }
                let elType = try lq()
                let count = try lq()
                let start = cursor.position
                if elType == 15 || elType == 18 || elType == 20 {
                    throw STEMError.field(path, "array tag '\(name)'", at: typeAt, expected: "a simple element type", found: "\(elType)")
                }
                guard let size = DMTagTree.simpleSize(elType) else {
                    throw STEMError.field(path, "array tag '\(name)' element type", at: typeAt, expected: "a DM simple type (2-12)", found: "\(elType)")
                }
                let bytes = checkedProduct(count, size)
                try skipBytes(bytes, field: "array '\(name)' size")
                if inImageData && name == "Data" {
                    images[images.count - 1].dataOffset = start
                    images[images.count - 1].dataBytes = bytes!
                    images[images.count - 1].dataCount = count
                }
            default:
                guard infoLength > 3 else {
                    throw STEMError.field(path, "data tag '\(name)' type length", at: typeAt, expected: ">= 1", found: "\(infoLength)")
                }
                let type = try lq()
                if type == 15 {
                    try skipBytes(try structSize(), field: "struct '\(name)'")
                } else if type == 20 {
                    let elType = try lq()
                    switch elType {
                    case 15:
                        let s = try structSize()
                        let count = try lq()
                        try skipBytes(s.flatMap { checkedProduct($0, count) }, field: "struct array '\(name)'")
                    case 18:
                        let length = try lq()
                        _ = try lq()
                        try skipBytes(length, field: "string array '\(name)'")
                    case 20:
                        _ = try lq()  // element length
                        let inner = try lq()
                        let count = try lq()
                        guard let size = DMTagTree.simpleSize(inner) else {
                            throw STEMError.field(path, "array of arrays '\(name)'", at: typeAt, expected: "a simple element type", found: "\(inner)")
                        }
                        try skipBytes(checkedProduct(count, size), field: "array of arrays '\(name)'")
                    default:
                        throw STEMError.field(path, "array tag '\(name)'", at: typeAt, expected: "struct (15), string (18) or array (20) elements", found: "\(elType)")
                    }
                } else {
                    throw STEMError.field(path, "data tag '\(name)'", at: typeAt, expected: "struct (15) or array (20)", found: "\(type)")
                }
            }
        }

        /// Reads a struct definition; returns the byte size of one struct.
        mutating func structSize() throws -> Int? {
            _ = try lq()
            let fields = try lq()
            guard fields <= 4096 else {
                throw STEMError.field(path, "struct field count", at: cursor.position, expected: "at most 4096", found: "\(fields)")
            }
            var total = 0
            for _ in 0 ..< fields {
                _ = try lq()
                let at = cursor.position
                let type = try lq()
                guard let s = DMTagTree.simpleSize(type) else {
                    throw STEMError.field(path, "struct field type", at: at, expected: "a DM simple type (2-12)", found: "\(type)")
                }
                total += s
            }
            return total
        }
    }
}
