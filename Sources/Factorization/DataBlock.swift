/// One rank's rows of the non-negative data matrix X (rows = scan positions, columns = detector pixels,
/// row-major Float). `firstRow` and `totalRows` place the block in the global matrix; random initialisation and
/// result assembly use them, the solvers never need the other ranks' rows.
public struct NMFDataBlock: Sendable {
    public let firstRow: Int
    public let rows: Int
    public let totalRows: Int
    public let columns: Int
    public private(set) var values: [Float]
    /// Number of negative values replaced by 0 at construction (policy `.clip`).
    public let clippedCount: Int

    /// Validates the block: shape, finiteness, and negatives (clipped in place or rejected, per `negatives`).
    /// Clipping mutates the block's own buffer; pass an array you no longer use to avoid a copy.
    public init(values: [Float], rows: Int, columns: Int, firstRow: Int = 0, totalRows: Int? = nil,
                negatives: NegativeValuePolicy = .clip) throws {
        guard rows >= 0, columns >= 1 else {
            throw NMFError.shapeMismatch(what: "data block", expected: "rows >= 0 and columns >= 1",
                                         found: "\(rows) x \(columns)")
        }
        guard values.count == rows * columns else {
            throw NMFError.shapeMismatch(what: "data block buffer", expected: "\(rows) x \(columns) = \(rows * columns) values",
                                         found: "\(values.count)")
        }
        let total = totalRows ?? (firstRow + rows)
        guard firstRow >= 0, firstRow + rows <= total else {
            throw NMFError.shapeMismatch(what: "data block rows", expected: "firstRow + rows <= totalRows",
                                         found: "\(firstRow) + \(rows) > \(total)")
        }
        var negativeCount = 0, nonFinite = 0
        var minimum: Float = 0
        values.withUnsafeBufferPointer { v in
            for x in v {
                if !x.isFinite { nonFinite += 1 } else if x < 0 { negativeCount += 1; minimum = min(minimum, x) }
            }
        }
        if nonFinite > 0 { throw NMFError.nonFiniteInput(count: nonFinite) }
        var owned = values
        if negativeCount > 0 {
            if negatives == .reject { throw NMFError.negativeInput(count: negativeCount, minimum: minimum) }
            owned.withUnsafeMutableBufferPointer { v in
                for i in v.indices where v[i] < 0 { v[i] = 0 }
            }
        }
        self.values = owned
        self.rows = rows
        self.columns = columns
        self.firstRow = firstRow
        self.totalRows = total
        self.clippedCount = negativeCount
    }

    /// Wraps values already known to be finite and non-negative (e.g. produced by stemrun's own preprocessing),
    /// without the validation pass. Only the shape is checked. (Truncated SVD also accepts signed values this way.)
    public init(unchecked values: [Float], rows: Int, columns: Int, firstRow: Int = 0, totalRows: Int? = nil) throws {
        guard rows >= 0, columns >= 1, values.count == rows * columns else {
            throw NMFError.shapeMismatch(what: "data block buffer", expected: "\(rows) x \(columns) values",
                                         found: "\(values.count)")
        }
        let total = totalRows ?? (firstRow + rows)
        guard firstRow >= 0, firstRow + rows <= total else {
            throw NMFError.shapeMismatch(what: "data block rows", expected: "firstRow + rows <= totalRows",
                                         found: "\(firstRow) + \(rows) > \(total)")
        }
        self.values = values
        self.rows = rows
        self.columns = columns
        self.firstRow = firstRow
        self.totalRows = total
        self.clippedCount = 0
    }

    /// Splits a whole matrix into the blocks of `parts` ranks (balanced contiguous rows), for tests and tools.
    public static func partition(_ values: [Float], rows: Int, columns: Int, parts: Int) throws -> [NMFDataBlock] {
        guard parts >= 1 else {
            throw NMFError.invalidParameter(name: "parts", value: "\(parts)", expected: ">= 1")
        }
        let base = rows / parts, extra = rows % parts
        var blocks: [NMFDataBlock] = []
        var start = 0
        for part in 0 ..< parts {
            let count = base + (part < extra ? 1 : 0)
            blocks.append(try NMFDataBlock(values: Array(values[start * columns ..< (start + count) * columns]),
                                           rows: count, columns: columns, firstRow: start, totalRows: rows))
            start += count
        }
        return blocks
    }
}
