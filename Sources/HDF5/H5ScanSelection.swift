import CHDF5
import MPIShim
import STEMCore

/// Reading and writing a contiguous run of scan positions of a dataset whose leading dimensions are the
/// scan: (N, ...) with `scanDims` 1, or (Ny, Nx, ...) with `scanDims` 2. A run of a row-major scan is at most
/// three rectangles (a partial first row, whole rows, a partial last row); they are selected as one union,
/// which HDF5 traverses in file order, so memory holds the positions in scan order.
extension H5Dataset {
    func scanSelection(_ range: Range<Int>, scanDims: Int) throws -> (file: hid_t, memory: hid_t) {
        let shp = shape
        guard scanDims == 1 || scanDims == 2, shp.count >= scanDims else {
            throw STEMError.shapeMismatch(path: filePath, field: name, expected: "\(scanDims) leading scan dimension(s)",
                                          found: "shape \(shp)")
        }
        let rest = Array(shp[scanDims...])
        let perPosition = rest.reduce(1, *)
        let nScan = shp.prefix(scanDims).reduce(1, *)
        guard range.lowerBound >= 0, range.upperBound <= nScan else {
            throw STEMError.shapeMismatch(path: filePath, field: name, expected: "scan positions within 0..<\(nScan)",
                                          found: "\(range)")
        }
        let fspace = H5Dget_space(id)
        var total = [hsize_t(max(range.count * perPosition, 1))]
        let mspace = H5Screate_simple(1, &total, nil)
        if range.isEmpty || perPosition == 0 {
            H5Sselect_none(fspace)
            H5Sselect_none(mspace)
            return (fspace, mspace)
        }
        var rects: [(start: [Int], count: [Int])] = []
        let zeros = rest.map { _ in 0 }
        if scanDims == 1 {
            rects.append(([range.lowerBound] + zeros, [range.count] + rest))
        } else {
            let nx = shp[1]
            var lo = range.lowerBound
            let hi = range.upperBound
            if lo % nx != 0 {
                let end = min(hi, (lo / nx + 1) * nx)
                rects.append(([lo / nx, lo % nx] + zeros, [1, end - lo] + rest))
                lo = end
            }
            let fullRows = (hi - lo) / nx
            if fullRows > 0 {
                rects.append(([lo / nx, 0] + zeros, [fullRows, nx] + rest))
                lo += fullRows * nx
            }
            if lo < hi { rects.append(([lo / nx, 0] + zeros, [1, hi - lo] + rest)) }
        }
        for (i, r) in rects.enumerated() {
            var s = r.start.map { hsize_t($0) }, c = r.count.map { hsize_t($0) }
            H5Sselect_hyperslab(fspace, i == 0 ? H5S_SELECT_SET : H5S_SELECT_OR, &s, nil, &c, nil)
        }
        // One rectangle: memory of the same shape (the same values in the same order), which lets HDF5 map a
        // chunked dataset's chunks block by block; against a flat memory space it maps them element by element
        // (most of the time of reading a compressed file of large chunks).
        if rects.count == 1 {
            H5Sclose(mspace)
            var c = rects[0].count.map { hsize_t($0) }
            return (fspace, H5Screate_simple(Int32(c.count), &c, nil))
        }
        return (fspace, mspace)
    }

    /// Reads scan positions `range` (all trailing dimensions) into memory of `memoryType`.
    public func read(scanRange range: Range<Int>, scanDims: Int, memoryType: ElementType,
                     into buffer: UnsafeMutableRawPointer?, transfer: H5PropertyList? = nil) throws {
        let (fs, ms) = try scanSelection(range, scanDims: scanDims)
        defer { H5Sclose(fs); H5Sclose(ms) }
        if H5Dread(id, memoryType.h5NativeType, ms, fs, transfer?.id ?? shim_H5P_DEFAULT(), buffer) < 0 {
            throw STEMError.library(call: "H5Dread(\(name))",
                                    detail: "\(filePath): reading scan positions \(range) failed (truncated file, or a compression filter that is not installed?)")
        }
    }

    /// Writes scan positions `range` (all trailing dimensions) from `buffer`; an empty range joins a
    /// collective write without data.
    public func write<T: H5Scalar>(scanRange range: Range<Int>, scanDims: Int, from buffer: UnsafeBufferPointer<T>,
                                   transfer: H5PropertyList? = nil) throws {
        let (fs, ms) = try scanSelection(range, scanDims: scanDims)
        defer { H5Sclose(fs); H5Sclose(ms) }
        if H5Dwrite(id, T.h5NativeType, ms, fs, transfer?.id ?? shim_H5P_DEFAULT(), buffer.baseAddress) < 0 {
            throw STEMError.outputFailed(path: filePath, detail: "H5Dwrite(\(name)) scan positions \(range) failed")
        }
    }
}
