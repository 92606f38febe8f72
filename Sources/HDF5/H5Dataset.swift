import CHDF5
import MPIShim
import STEMCore

/// An open HDF5 dataset: its shape, element type, layout, and hyperslab reads and writes.
public final class H5Dataset: H5Object {
    deinit { H5Dclose(id) }

    /// File offset of a contiguous dataset's storage (nil when not allocated or chunked).
    public var storageOffset: UInt64? {
        let o = H5Dget_offset(id)
        return o == haddr_t.max ? nil : UInt64(o)
    }

    /// Current dimensions.
    public var shape: [Int] {
        let space = H5Dget_space(id)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank > 0 else { return [] }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, nil)
        return dims.map { Int($0) }
    }

    /// The numeric element type, nil for non-numeric types.
    public var elementType: ElementType? {
        let t = H5Dget_type(id)
        defer { H5Tclose(t) }
        return ElementType.from(h5Type: t)
    }

    /// A description of the on-disk type ("uint16", "string", "compound", ...), for messages.
    public var typeDescription: String {
        if let e = elementType { return e.rawValue }
        let t = H5Dget_type(id)
        defer { H5Tclose(t) }
        switch H5Tget_class(t) {
        case H5T_STRING: return "string"
        case H5T_COMPOUND: return "compound"
        case H5T_ENUM: return "enum"
        case H5T_INTEGER: return "integer of \(H5Tget_size(t)) bytes"
        case H5T_FLOAT: return "float of \(H5Tget_size(t)) bytes"
        default: return "class \(H5Tget_class(t).rawValue)"
        }
    }

    /// Chunk dimensions when the layout is chunked, nil when contiguous or compact.
    public var chunkShape: [Int]? {
        let dcpl = H5Dget_create_plist(id)
        defer { H5Pclose(dcpl) }
        guard H5Pget_layout(dcpl) == H5D_CHUNKED else { return nil }
        let rank = shape.count
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        H5Pget_chunk(dcpl, Int32(rank), &dims)
        return dims.prefix(rank).map { Int($0) }
    }

    /// Number of filters (compression etc.) in the dataset's pipeline.
    public var filterCount: Int {
        let dcpl = H5Dget_create_plist(id)
        defer { H5Pclose(dcpl) }
        return Int(H5Pget_nfilters(dcpl))
    }

    /// Selects the hyperslab [start, start+count) on a copy of the file space; an empty count selects none
    /// (a rank with nothing to do still joins a collective transfer).
    private func selection(start: [Int], count: [Int]) throws -> (file: hid_t, memory: hid_t) {
        let fspace = H5Dget_space(id)
        let total = count.reduce(1, *)
        if total == 0 {
            H5Sselect_none(fspace)
            var one: [hsize_t] = [1]
            let mspace = H5Screate_simple(1, &one, nil)
            H5Sselect_none(mspace)
            return (fspace, mspace)
        }
        var s = start.map { hsize_t($0) }, c = count.map { hsize_t($0) }
        guard H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &s, nil, &c, nil) >= 0 else {
            H5Sclose(fspace)
            throw STEMError.shapeMismatch(path: filePath, field: name, expected: "a selection inside \(shape)",
                                          found: "start \(start) count \(count)")
        }
        var m = [hsize_t(total)]
        return (fspace, H5Screate_simple(1, &m, nil))
    }

    private func validate(start: [Int], count: [Int]) throws {
        let shp = shape
        guard start.count == shp.count, count.count == shp.count,
              zip(zip(start, count), shp).allSatisfy({ $0.0 >= 0 && $0.1 >= 0 && $0.0 + $0.1 <= $1 }) else {
            throw STEMError.shapeMismatch(path: filePath, field: name, expected: "a selection inside \(shp)",
                                          found: "start \(start) count \(count)")
        }
    }

    /// Reads the hyperslab into raw memory of `memoryType` (HDF5 converts from the file type).
    public func read(start: [Int], count: [Int], memoryType: ElementType, into buffer: UnsafeMutableRawPointer?,
                     transfer: H5PropertyList? = nil) throws {
        try validate(start: start, count: count)
        let (fs, ms) = try selection(start: start, count: count)
        defer { H5Sclose(fs); H5Sclose(ms) }
        let status = H5Dread(id, memoryType.h5NativeType, ms, fs, transfer?.id ?? shim_H5P_DEFAULT(), buffer)
        if status < 0 {
            throw STEMError.library(call: "H5Dread(\(name))",
                                    detail: "\(filePath): reading start \(start) count \(count) failed (truncated file, or a compression filter that is not installed?)")
        }
    }

    /// Reads the hyperslab [start, start+count) into a typed buffer.
    public func read<T: H5Scalar>(start: [Int], count: [Int], into buffer: UnsafeMutableBufferPointer<T>,
                                  transfer: H5PropertyList? = nil) throws {
        precondition(buffer.count >= count.reduce(1, *))
        try read(start: start, count: count, memoryType: T.elementType, into: buffer.baseAddress, transfer: transfer)
    }

    /// Reads the whole dataset.
    public func readAll<T: H5Scalar>(as type: T.Type = T.self) throws -> [T] {
        let shp = shape
        var out = [T](repeating: T(), count: shp.reduce(1, *))
        if out.isEmpty { return out }
        try out.withUnsafeMutableBufferPointer {
            try read(start: shp.map { _ in 0 }, count: shp, into: $0)
        }
        return out
    }

    /// Writes the hyperslab [start, start+count) from `buffer` (count all-zero: join a collective write
    /// without data).
    public func write<T: H5Scalar>(start: [Int], count: [Int], from buffer: UnsafeBufferPointer<T>,
                                   transfer: H5PropertyList? = nil) throws {
        try validate(start: start, count: count)
        let (fs, ms) = try selection(start: start, count: count)
        defer { H5Sclose(fs); H5Sclose(ms) }
        let status = H5Dwrite(id, T.h5NativeType, ms, fs, transfer?.id ?? shim_H5P_DEFAULT(), buffer.baseAddress)
        if status < 0 {
            throw STEMError.outputFailed(path: filePath, detail: "H5Dwrite(\(name)) start \(start) count \(count) failed")
        }
    }
}

