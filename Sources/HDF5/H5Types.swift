import CHDF5
import MPIShim
import STEMCore

/// Numeric element types stemrun stores in HDF5, with their native HDF5 type ids.
public protocol H5Scalar {
    init()
    static var h5NativeType: hid_t { get }
    static var elementType: ElementType { get }
}
extension UInt8: H5Scalar { public static var h5NativeType: hid_t { shim_H5T_NATIVE_UINT8() }; public static var elementType: ElementType { .uint8 } }
extension UInt16: H5Scalar { public static var h5NativeType: hid_t { shim_H5T_NATIVE_UINT16() }; public static var elementType: ElementType { .uint16 } }
extension UInt32: H5Scalar { public static var h5NativeType: hid_t { shim_H5T_NATIVE_UINT32() }; public static var elementType: ElementType { .uint32 } }
extension UInt64: H5Scalar { public static var h5NativeType: hid_t { shim_H5T_NATIVE_UINT64() }; public static var elementType: ElementType { .uint64 } }
extension Int8: H5Scalar { public static var h5NativeType: hid_t { shim_H5T_NATIVE_INT8() }; public static var elementType: ElementType { .int8 } }
extension Int16: H5Scalar { public static var h5NativeType: hid_t { shim_H5T_NATIVE_INT16() }; public static var elementType: ElementType { .int16 } }
extension Int32: H5Scalar { public static var h5NativeType: hid_t { shim_H5T_NATIVE_INT32() }; public static var elementType: ElementType { .int32 } }
extension Int64: H5Scalar { public static var h5NativeType: hid_t { shim_H5T_NATIVE_INT64() }; public static var elementType: ElementType { .int64 } }
extension Int: H5Scalar { public static var h5NativeType: hid_t { shim_H5T_NATIVE_INT64() }; public static var elementType: ElementType { .int64 } }
extension Float: H5Scalar { public static var h5NativeType: hid_t { shim_H5T_NATIVE_FLOAT() }; public static var elementType: ElementType { .float32 } }
extension Double: H5Scalar { public static var h5NativeType: hid_t { shim_H5T_NATIVE_DOUBLE() }; public static var elementType: ElementType { .float64 } }

extension ElementType {
    /// The native HDF5 type id for reading values of this type into memory.
    public var h5NativeType: hid_t {
        switch self {
        case .uint8: return shim_H5T_NATIVE_UINT8()
        case .uint16: return shim_H5T_NATIVE_UINT16()
        case .uint32: return shim_H5T_NATIVE_UINT32()
        case .uint64: return shim_H5T_NATIVE_UINT64()
        case .int8: return shim_H5T_NATIVE_INT8()
        case .int16: return shim_H5T_NATIVE_INT16()
        case .int32: return shim_H5T_NATIVE_INT32()
        case .int64: return shim_H5T_NATIVE_INT64()
        case .float32: return shim_H5T_NATIVE_FLOAT()
        case .float64: return shim_H5T_NATIVE_DOUBLE()
        }
    }

    /// Classifies an HDF5 file type; nil for types stemrun does not read (strings, compounds, ...).
    static func from(h5Type t: hid_t) -> ElementType? {
        let size = H5Tget_size(t)
        switch H5Tget_class(t) {
        case H5T_INTEGER:
            let signed = H5Tget_sign(t) == H5T_SGN_2
            switch (size, signed) {
            case (1, false): return .uint8
            case (2, false): return .uint16
            case (4, false): return .uint32
            case (8, false): return .uint64
            case (1, true): return .int8
            case (2, true): return .int16
            case (4, true): return .int32
            case (8, true): return .int64
            default: return nil
            }
        case H5T_FLOAT:
            switch size {
            case 4: return .float32
            case 8: return .float64
            default: return nil
            }
        default: return nil
        }
    }
}
