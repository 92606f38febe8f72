import CHDF5
import HDF5
import MPIShim
import Readers
import STEMCore
import Testing

@Suite struct DectrisTests {
    let detector = DetectorShape(rows: 6, columns: 5)

    /// A master file whose /entry/data holds two frame stacks (5 + 4 frames) and a link to a missing file.
    func master(_ folder: String, missing: Bool = false) throws -> (path: String, values: [Float]) {
        let values = testPatterns(count: 9, pixels: 30, maximum: 1 << 20, seed: 8)
        let path = folder + "/scan_master.h5"
        let f = try H5File.create(path)
        _ = try f.createGroup("entry/data")
        _ = try f.writeDataset("entry/data/data_000001", values[..<150].map { UInt32($0) }, shape: [5, 6, 5])
        _ = try f.writeDataset("entry/data/data_000002", values[150...].map { UInt32($0) }, shape: [4, 6, 5])
        if missing {
            let group = try f.group("entry/data")
            H5Lcreate_external("scan_data_000003.h5", "entry/data/data", group.id, "data_000003", shim_H5P_DEFAULT(), shim_H5P_DEFAULT())
        }
        try f.close()
        return (path, values)
    }

    @Test func framesOfAllDataFilesFormTheScan() throws {
        let (path, values) = try master(temporaryFolder("dectris"))
        let s = try openPatternSource(path: path, formats: FormatRegistry.instrumentFormats)
        #expect(s.formatName == "dectris" && s.scan == ScanGrid(rows: 3, columns: 3) && s.detector == detector && s.elementType == .uint32)
        #expect(try expectSameInParts(s, values))
        let row = try DectrisPatternSource(path: path, options: ReaderOptions(scan: ScanGrid(rows: 1, columns: 8)))
        #expect(try row.readBlock(3 ..< 7).pixels == Array(values[90 ..< 210]))
    }

    @Test func missingDataFileAndMissingGroupAreNamed() throws {
        let folder = temporaryFolder("dectrisbad")
        let (path, _) = try master(folder, missing: true)
        let missing = errorText { _ = try DectrisPatternSource(path: path) }
        #expect(missing?.contains("data_000003") == true && missing?.contains("missing") == true)
        let empty = try H5File.create(folder + "/empty.h5")
        _ = try empty.createGroup("entry")
        try empty.close()
        #expect(errorText { _ = try DectrisPatternSource(path: folder + "/empty.h5") }?.contains("/entry/data") == true)
    }
}
