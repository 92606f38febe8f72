import CHDF5
import Foundation
import MPIShim
import STEMCore

/// Something HDF5 names inside a file: the file's root, a group or a dataset. Owns its identifier.
public class H5Object {
    public let id: hid_t
    /// The file on disk (for error messages).
    public let filePath: String
    /// The object's path inside the file.
    public let name: String

    init(id: hid_t, filePath: String, name: String) {
        self.id = id
        self.filePath = filePath
        self.name = name
    }

    // MARK: attributes

    /// Names of the attributes attached to this object.
    public func attributeNames() -> [String] {
        var info = H5O_info_t()
        guard H5Oget_info2(id, &info, UInt32(H5O_INFO_NUM_ATTRS)) >= 0 else { return [] }
        var names: [String] = []
        for i in 0 ..< info.num_attrs {
            let n = H5Aget_name_by_idx(id, ".", H5_INDEX_CRT_ORDER, H5_ITER_NATIVE, i, nil, 0, shim_H5P_DEFAULT())
            let n2 = n >= 0 ? n : H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_NATIVE, i, nil, 0, shim_H5P_DEFAULT())
            guard n2 >= 0 else { continue }
            var buf = [CChar](repeating: 0, count: Int(n2) + 1)
            let order = n >= 0 ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME
            H5Aget_name_by_idx(id, ".", order, H5_ITER_NATIVE, i, &buf, buf.count, shim_H5P_DEFAULT())
            names.append(String(cString: buf))
        }
        return names
    }

    public func hasAttribute(_ key: String) -> Bool { H5Aexists(id, key) > 0 }

    private func replaceAttribute(_ key: String, type: hid_t, space: hid_t) throws -> hid_t {
        if H5Aexists(id, key) > 0 { H5Adelete(id, key) }
        return try H5.check(id: H5Acreate2(id, key, type, space, shim_H5P_DEFAULT(), shim_H5P_DEFAULT()),
                            "H5Acreate2(\(name)@\(key))", path: filePath)
    }

    /// Writes a variable-length UTF-8 string attribute (h5py reads it as `str`).
    public func setAttribute(_ key: String, _ value: String) throws {
        let type = H5Tcopy(shim_H5T_C_S1())
        defer { H5Tclose(type) }
        H5Tset_size(type, shim_H5T_VARIABLE())
        H5Tset_cset(type, H5T_CSET_UTF8)
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        let attr = try replaceAttribute(key, type: type, space: space)
        defer { H5Aclose(attr) }
        try value.withCString { cstr in
            var ptr: UnsafePointer<CChar>? = cstr
            try H5.check(H5Awrite(attr, type, &ptr), "H5Awrite(\(key))", path: filePath)
        }
    }

    /// Writes a numeric attribute: a scalar when `values` has one element, a 1D array otherwise.
    public func setAttribute<T: H5Scalar>(_ key: String, _ values: [T]) throws {
        var dims: [hsize_t] = [hsize_t(values.count)]
        let space = values.count == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let attr = try replaceAttribute(key, type: T.h5NativeType, space: space)
        defer { H5Aclose(attr) }
        try values.withUnsafeBufferPointer {
            try H5.check(H5Awrite(attr, T.h5NativeType, $0.baseAddress), "H5Awrite(\(key))", path: filePath)
        }
    }

    public func setAttribute<T: H5Scalar>(_ key: String, _ value: T) throws { try setAttribute(key, [value]) }

    /// Reads a string attribute (fixed or variable length); nil when absent or not a string.
    public func stringAttribute(_ key: String) -> String? {
        guard H5Aexists(id, key) > 0 else { return nil }
        let attr = H5Aopen(id, key, shim_H5P_DEFAULT())
        guard attr >= 0 else { return nil }
        defer { H5Aclose(attr) }
        let ftype = H5Aget_type(attr)
        defer { H5Tclose(ftype) }
        guard H5Tget_class(ftype) == H5T_STRING else { return nil }
        let space = H5Aget_space(attr)
        defer { H5Sclose(space) }
        let n = max(1, Int(H5Sget_simple_extent_npoints(space)))
        if H5Tis_variable_str(ftype) > 0 {
            let mtype = H5Tcopy(shim_H5T_C_S1())
            defer { H5Tclose(mtype) }
            H5Tset_size(mtype, shim_H5T_VARIABLE())
            H5Tset_cset(mtype, H5Tget_cset(ftype))
            var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
            guard H5Aread(attr, mtype, &ptrs) >= 0 else { return nil }
            let s = ptrs.compactMap { $0.map { String(cString: $0) } }.joined(separator: ", ")
            H5Dvlen_reclaim(mtype, space, shim_H5P_DEFAULT(), &ptrs)
            return s
        }
        let size = H5Tget_size(ftype)
        var buf = [CChar](repeating: 0, count: size * n + 1)
        guard H5Aread(attr, ftype, &buf) >= 0 else { return nil }
        let bytes = buf.prefix(size * n).map { UInt8(bitPattern: $0) }
        let strings = stride(from: 0, to: bytes.count, by: size).map { off -> String in
            let slice = bytes[off ..< off + size].prefix { $0 != 0 }
            return String(decoding: slice, as: UTF8.self)
        }
        return strings.joined(separator: ", ")
    }

    /// Reads a numeric attribute as doubles; nil when absent or not numeric.
    public func numericAttribute(_ key: String) -> [Double]? {
        guard H5Aexists(id, key) > 0 else { return nil }
        let attr = H5Aopen(id, key, shim_H5P_DEFAULT())
        guard attr >= 0 else { return nil }
        defer { H5Aclose(attr) }
        let ftype = H5Aget_type(attr)
        defer { H5Tclose(ftype) }
        let cls = H5Tget_class(ftype)
        guard cls == H5T_INTEGER || cls == H5T_FLOAT else { return nil }
        let space = H5Aget_space(attr)
        defer { H5Sclose(space) }
        let n = max(1, Int(H5Sget_simple_extent_npoints(space)))
        var out = [Double](repeating: 0, count: n)
        guard H5Aread(attr, shim_H5T_NATIVE_DOUBLE(), &out) >= 0 else { return nil }
        return out
    }

    /// Any attribute rendered as text (for `stemrun info`).
    public func attributeText(_ key: String) -> String? {
        if let s = stringAttribute(key) { return s }
        if let v = numericAttribute(key) {
            return v.count == 1 ? "\(v[0])" : "[" + v.map { "\($0)" }.joined(separator: ", ") + "]"
        }
        return nil
    }
}

/// The kinds of member an HDF5 group holds.
public enum H5MemberKind: Sendable { case group, dataset, other }

/// The root of a file or a group: a place that holds groups and datasets.
public class H5Location: H5Object {
    /// The file's size as the library sees it (`H5Fget_filesize`: the larger of its end of allocation and its
    /// end of file), so every byte the library has placed anything at lies below it.
    public var librarySize: UInt64? {
        let f = H5Iget_file_id(id)
        guard f >= 0 else { return nil }
        defer { H5Fclose(f) }
        var size: hsize_t = 0
        guard H5Fget_filesize(f, &size) >= 0 else { return nil }
        return UInt64(size)
    }

    /// True when `path` (relative or absolute, "/"-separated) names an existing link, checking each level.
    public func exists(_ path: String) -> Bool {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if H5Lexists(id, prefix, shim_H5P_DEFAULT()) <= 0 { return false }
        }
        return true
    }

    /// The kind of object at `path`, nil when absent.
    public func kind(of path: String) -> H5MemberKind? {
        guard exists(path) else { return nil }
        let obj = H5Oopen(id, path, shim_H5P_DEFAULT())
        guard obj >= 0 else { return nil }
        defer { H5Oclose(obj) }
        switch H5Iget_type(obj) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        default: return .other
        }
    }

    /// Names of the direct members of this group.
    public func memberNames() -> [String] {
        var info = H5G_info_t()
        guard H5Gget_info(id, &info) >= 0 else { return [] }
        var names: [String] = []
        for i in 0 ..< info.nlinks {
            let n = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, shim_H5P_DEFAULT())
            guard n >= 0 else { continue }
            var buf = [CChar](repeating: 0, count: Int(n) + 1)
            H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, buf.count, shim_H5P_DEFAULT())
            names.append(String(cString: buf))
        }
        return names
    }

    /// Paths of every dataset below this location, depth first (for `stemrun info` and format detection).
    public func datasetPaths(prefix: String = "", limit: Int = 10_000) -> [String] {
        var out: [String] = []
        for m in memberNames() where out.count < limit {
            let p = prefix.isEmpty ? m : prefix + "/" + m
            switch kind(of: m) {
            case .dataset: out.append(p)
            case .group:
                if let g = try? group(m) { out += g.datasetPaths(prefix: p, limit: limit - out.count) }
            default: break
            }
        }
        return out
    }

    func childName(_ path: String) -> String {
        path.hasPrefix("/") ? path : (name == "/" ? "/" + path : name + "/" + path)
    }

    /// Opens an existing group.
    public func group(_ path: String) throws -> H5Group {
        guard exists(path) else {
            throw STEMError.missingField(path: filePath, field: childName(path), hint: "no such group")
        }
        let g = try H5.check(id: H5Gopen2(id, path, shim_H5P_DEFAULT()), "H5Gopen2(\(path))", path: filePath)
        return H5Group(id: g, filePath: filePath, name: childName(path))
    }

    /// Creates a group (and any missing parents), or opens it when it exists.
    @discardableResult
    public func createGroup(_ path: String) throws -> H5Group {
        if exists(path) { return try group(path) }
        let lcpl = H5PropertyList(class: shim_H5P_LINK_CREATE())
        H5Pset_create_intermediate_group(lcpl.id, 1)
        let g = try H5.check(id: H5Gcreate2(id, path, lcpl.id, shim_H5P_DEFAULT(), shim_H5P_DEFAULT()),
                             "H5Gcreate2(\(path))", path: filePath)
        return H5Group(id: g, filePath: filePath, name: childName(path))
    }

    /// Opens an existing dataset; `chunkCacheBytes` sizes its chunk cache (HDF5's default holds 1 MiB: a
    /// compressed chunk larger than that is read and decompressed again for every selection inside it).
    public func dataset(_ path: String, chunkCacheBytes: Int? = nil) throws -> H5Dataset {
        guard let k = kind(of: path) else {
            throw STEMError.missingField(path: filePath, field: childName(path),
                                         hint: "no such dataset; `stemrun info \(filePath)` lists what the file holds")
        }
        guard k == .dataset else {
            throw STEMError.badFormat(path: filePath, location: childName(path), expected: "a dataset", found: "a group")
        }
        let access = chunkCacheBytes.map { bytes in
            let list = H5PropertyList(class: shim_H5P_DATASET_ACCESS())
            // Slots: a prime about ten times the chunks the cache holds (HDF5's advice), at least HDF5's 521.
            func isPrime(_ n: Int) -> Bool { n > 1 && !(2 ..< max(2, Int(Double(n).squareRoot()) + 1)).contains { n % $0 == 0 } }
            var slots = max(521, min(1 << 20, 10 * bytes / (64 << 10)))
            while !isPrime(slots) { slots += 1 }
            H5Pset_chunk_cache(list.id, slots, bytes, 0.75)
            return list
        }
        let d = try H5.check(id: H5Dopen2(id, path, access?.id ?? shim_H5P_DEFAULT()), "H5Dopen2(\(path))", path: filePath)
        return H5Dataset(id: d, filePath: filePath, name: childName(path))
    }

    /// Creates a dataset of element type `T` and the given shape; `chunks` enables chunked layout, `deflate`
    /// (0-9) gzip compression (not usable with parallel writes). Replaces nothing: the path must be free.
    ///
    /// With `neverFill`, the fill value (`fillValue`, else zero) is recorded but never written: storage that is
    /// allocated at the end of a new file and never written reads as zero (a hole), which lets a writer skip
    /// the all-zero parts of a sparse dataset (see `H5Dataset.storageOffset`).
    public func createDataset<T: H5Scalar>(_ path: String, of type: T.Type, shape: [Int], chunks: [Int]? = nil,
                                           deflate: Int? = nil, fillValue: T? = nil,
                                           neverFill: Bool = false) throws -> H5Dataset {
        if exists(path) {
            throw STEMError.outputFailed(path: filePath, detail: "dataset \(childName(path)) already exists")
        }
        var dims = shape.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(dims.count), &dims, nil)
        defer { H5Sclose(space) }
        let dcpl = H5PropertyList.datasetCreate()
        if let chunks, !shape.contains(0) {
            var c = zip(chunks, shape).map { hsize_t(max(1, min($0, $1))) }
            H5Pset_chunk(dcpl.id, Int32(c.count), &c)
            if let level = deflate { H5Pset_deflate(dcpl.id, UInt32(level)) }
        }
        if let fill = fillValue ?? (neverFill ? T() : nil) {
            withUnsafeBytes(of: fill) { _ = H5Pset_fill_value(dcpl.id, T.h5NativeType, $0.baseAddress) }
        }
        if neverFill { H5Pset_fill_time(dcpl.id, H5D_FILL_TIME_NEVER) }
        H5Pset_alloc_time(dcpl.id, H5D_ALLOC_TIME_EARLY)
        let lcpl = H5PropertyList(class: shim_H5P_LINK_CREATE())
        H5Pset_create_intermediate_group(lcpl.id, 1)
        let d = try H5.check(id: H5Dcreate2(id, path, T.h5NativeType, space, lcpl.id, dcpl.id, shim_H5P_DEFAULT()),
                             "H5Dcreate2(\(path))", path: filePath)
        return H5Dataset(id: d, filePath: filePath, name: childName(path))
    }

    /// Convenience: creates a dataset and writes all of `values` (single-writer use; collective use goes
    /// through `H5Dataset.write` with each rank's hyperslab).
    @discardableResult
    public func writeDataset<T: H5Scalar>(_ path: String, _ values: [T], shape: [Int]? = nil,
                                          transfer: H5PropertyList? = nil) throws -> H5Dataset {
        let shp = shape ?? [values.count]
        let d = try createDataset(path, of: T.self, shape: shp)
        try values.withUnsafeBufferPointer {
            try d.write(start: shp.map { _ in 0 }, count: shp, from: $0, transfer: transfer)
        }
        return d
    }
}

/// An open HDF5 group.
public final class H5Group: H5Location {
    deinit { H5Gclose(id) }
}

extension H5Location {
    /// Writes a dataset of fixed-length, null-terminated UTF-8 strings (e.g. phase names, column labels),
    /// shaped `shape` (default 1D). Fixed length because parallel HDF5 cannot write variable-length data;
    /// single writer, or collective with identical content on every rank.
    @discardableResult
    public func writeStrings(_ path: String, _ values: [String], shape: [Int]? = nil) throws -> H5Dataset {
        let shp = shape ?? [values.count]
        precondition(shp.reduce(1, *) == values.count)
        let width = max(1, values.map { $0.utf8.count }.max() ?? 0) + 1
        let type = H5Tcopy(shim_H5T_C_S1())
        defer { H5Tclose(type) }
        H5Tset_size(type, width)
        H5Tset_strpad(type, H5T_STR_NULLTERM)
        H5Tset_cset(type, H5T_CSET_UTF8)
        var dims = shp.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(dims.count), &dims, nil)
        defer { H5Sclose(space) }
        let lcpl = H5PropertyList(class: shim_H5P_LINK_CREATE())
        H5Pset_create_intermediate_group(lcpl.id, 1)
        let d = try H5.check(id: H5Dcreate2(id, path, type, space, lcpl.id, shim_H5P_DEFAULT(), shim_H5P_DEFAULT()),
                             "H5Dcreate2(\(path))", path: filePath)
        let ds = H5Dataset(id: d, filePath: filePath, name: childName(path))
        var buffer = [UInt8](repeating: 0, count: width * values.count)
        for (i, v) in values.enumerated() {
            for (j, byte) in v.utf8.enumerated() { buffer[i * width + j] = byte }
        }
        try H5.check(H5Dwrite(d, type, shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), &buffer),
                     "H5Dwrite(\(path))", path: filePath)
        return ds
    }

    /// Reads a dataset of strings (fixed or variable length).
    public func readStrings(_ path: String) throws -> [String] {
        let ds = try dataset(path)
        let ftype = H5Dget_type(ds.id)
        defer { H5Tclose(ftype) }
        guard H5Tget_class(ftype) == H5T_STRING else {
            throw STEMError.badFormat(path: filePath, location: childName(path), expected: "strings", found: ds.typeDescription)
        }
        let n = ds.shape.reduce(1, *)
        if H5Tis_variable_str(ftype) > 0 {
            var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
            try H5.check(H5Dread(ds.id, ftype, shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), &ptrs),
                         "H5Dread(\(path))", path: filePath)
            defer { ptrs.forEach { free($0) } }
            return ptrs.map { $0.map { String(cString: $0) } ?? "" }
        }
        let size = H5Tget_size(ftype)
        var buf = [UInt8](repeating: 0, count: n * size)
        try H5.check(H5Dread(ds.id, ftype, shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), &buf),
                     "H5Dread(\(path))", path: filePath)
        return (0 ..< n).map { i in String(decoding: buf[i * size ..< (i + 1) * size].prefix { $0 != 0 }, as: UTF8.self) }
    }
}
