import Crystallography
import Foundation
import HDF5
import Matching
import STEMCore

/// An HDF5 file holding a `FlatTemplateLibrary` (datasets `template_integers`, `template_quaternions`,
/// `spot_reals`; root attributes `parameters_hash`, `phases`, `templates`, `spots`) so a campaign builds the
/// library once. Written by rank 0 alone; every rank reads it.
public enum TemplateLibraryCache {
    public static func write(_ library: TemplateLibrary, to path: String) throws {
        let flat = library.flat
        let tmp = path + ".partial"
        unlink(tmp)
        let file = try H5File.create(tmp)
        _ = try file.writeDataset("template_integers", flat.templateIntegers)
        _ = try file.writeDataset("template_quaternions", flat.templateReals)
        _ = try file.writeDataset("spot_reals", flat.spotReals)
        try file.setAttribute("parameters_hash", String(flat.parametersHash, radix: 16))
        try file.setAttribute("phases", library.phases.map(\.name).joined(separator: ","))
        try file.setAttribute("templates", library.count)
        try file.setAttribute("spots", library.spotCount)
        try file.setAttribute("step_degrees", library.parameters.stepDegrees)
        try file.close()
        guard rename(tmp, path) == 0 else { throw STEMError.outputFailed(path: path, detail: "cannot rename \(tmp)") }
    }

    /// Reads a cache and checks it against the phases and parameters (hash, lengths, offsets).
    public static func read(_ path: String, phases: [CrystalStructure], parameters: LibraryParameters) throws -> TemplateLibrary {
        let file = try H5File.open(path)
        defer { try? file.close() }
        guard let text = file.stringAttribute("parameters_hash") else {
            throw STEMError.missingField(path: path, field: "parameters_hash", hint: "not a stemrun template library cache")
        }
        guard let hash = UInt64(text, radix: 16) else {
            throw STEMError.badFormat(path: path, location: "attribute parameters_hash", expected: "a hexadecimal 64-bit hash", found: text)
        }
        let ints: [Int32] = try file.dataset("template_integers").readAll()
        let reals: [Double] = try file.dataset("template_quaternions").readAll()
        let spots: [Float] = try file.dataset("spot_reals").readAll()
        let flat = FlatTemplateLibrary(templateIntegers: ints, templateReals: reals, spotReals: spots, parametersHash: hash)
        return try TemplateLibrary(flat: flat, phases: phases, parameters: parameters)
    }
}
