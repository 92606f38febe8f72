import Distributed
import Foundation
import HDF5
import Readers
import STEMCore
import Testing

/// Jobs run in one process on the one-rank `SelfCommunicator` (no MPI), as library users and tests do.
@Suite(.serialized) struct InProcessJobTests {
    @Test func virtualImagingOnSelfCommunicatorWritesCompleteFile() throws {
        let dir = StemrunProcess.temporaryFolder()
        let scan = ScanGrid(rows: 3, columns: 4), det = DetectorShape(rows: 16, columns: 16)
        try SyntheticDataset.writeHDF5(dir + "/in.h5", scan: scan, detector: det, as: Float.self) { $0 }
        let source = try InputSpec(path: dir + "/in.h5").open()
        var p = VirtualImagingJob.Parameters()
        p.center = (8, 8)
        p.brightFieldRadius = 3
        let summary = try VirtualImagingJob.run(source: source, parameters: p, comm: SelfCommunicator(),
                                                outputPath: dir + "/out.h5", pngFolder: nil,
                                                provenance: Provenance(command: "virtual", inputPath: dir + "/in.h5"))
        #expect(summary.positions == 12)
        let f = try H5File.open(dir + "/out.h5")
        #expect(f.numericAttribute("complete") == [1])
        let bf = try f.dataset("virtual/bright_field").readAll(as: Float.self)
        // Direct sum over the disc of radius 3 around (8, 8) for position 0.
        var expected: Float = 0
        for y in 0 ..< 16 { for x in 0 ..< 16 where (x - 8) * (x - 8) + (y - 8) * (y - 8) <= 9 {
            expected += SyntheticDataset.value(0, 0, y, x, detector: det)
        } }
        #expect(bf[0] == expected)
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.h5.partial"))
    }

    @Test func collectivelyReportsTheFailingRanksError() throws {
        let comm = SelfCommunicator()
        #expect(throws: STEMError.self) {
            try comm.collectively { throw STEMError.fileNotFound(path: "/x") }
        }
        #expect(try comm.collectively { 42 } == 42)
    }

    @Test func infoDescribesAnHDF5File() throws {
        let dir = StemrunProcess.temporaryFolder()
        try SyntheticDataset.writeHDF5(dir + "/in.h5", scan: ScanGrid(rows: 2, columns: 5), detector: DetectorShape(rows: 8, columns: 6),
                                       as: UInt16.self) { UInt16($0) }
        let r = try StemrunProcess.run(["info", dir + "/in.h5"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("format:       hdf5"))
        #expect(r.stdout.contains("scan:         2 x 5"))
        #expect(r.stdout.contains("detector:     8 x 6"))
        #expect(r.stdout.contains("dtype:        uint16"))
        #expect(r.stdout.contains("pixel_size_mrad: 0.5"))
    }
}
