"""pyxem template matching on a stemrun-simulated dataset, for bench/matching/run.sh.

pyxem_match.py SIM.h5 OUT.npz --phases Al,Cu --step 1 --rpx 0.02 --rmin 7 --rmax 60

The pipeline of pyxem's orientation-mapping tutorial (pyxem >= 0.19): centre the direct beam, polar transform
(1 px radial bins, 360 azimuthal bins), gamma 0.5, a diffsims kinematic library over orix's reduced fundamental
sector at the same angular step, excitation-error tolerance and radius range as stemrun, then
PolarDiffraction2D.get_orientation (pyxem's default pruning, frac_keep = 0.1). Writes quaternions
(w, x, y, z, as pyxem reports them) and phase ids per position, and the timings, as JSON on stdout.
"""
import argparse, json, time
import numpy as np
import h5py
import pyxem as pxm
from diffpy.structure import Atom, Lattice, Structure
from diffsims.generators.simulation_generator import SimulationGenerator
from orix.crystal_map import Phase
from orix.sampling import get_sample_reduced_fundamental

FCC = {"Al": ("Al", 4.0495), "Cu": ("Cu", 3.6149), "Au": ("Au", 4.0782)}


def fcc_phase(name):
    element, a = FCC[name]
    atoms = [Atom(element, xyz) for xyz in ([0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5])]
    return Phase(name=name, space_group=225, structure=Structure(atoms=atoms, lattice=Lattice(a, a, a, 90, 90, 90)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sim"); ap.add_argument("out")
    ap.add_argument("--phases", default="Al,Cu")
    ap.add_argument("--step", type=float, default=1.0)
    ap.add_argument("--rpx", type=float, default=0.02)
    ap.add_argument("--rmin", type=float, default=7)
    ap.add_argument("--rmax", type=float, default=60)
    ap.add_argument("--tolerance", type=float, default=0.03)
    a = ap.parse_args()

    with h5py.File(a.sim) as f:
        data = f["data"][()].astype(np.float32)
    ny, nx, ky, kx = data.shape
    phases = [fcc_phase(p) for p in a.phases.split(",")]
    gen = SimulationGenerator(200, minimum_intensity=1e-6)

    def pipeline(d, sims):
        s = pxm.signals.ElectronDiffraction2D(d)
        s.set_diffraction_calibration(a.rpx)
        s.center_direct_beam(method="blur", sigma=1, half_square_width=10)
        s.calibration.center = None
        npt = int(round(a.rmax))
        polar = s.get_azimuthal_integral2d(npt=npt, npt_azim=360, radial_range=(0, npt * a.rpx), mean=True) ** 0.5
        return polar.get_orientation(sims, n_best=2)

    # Warm-up on a 2 x 2 crop with a coarse library: numba compiles pyxem's kernels once, outside the timing.
    warm = [get_sample_reduced_fundamental(resolution=10, point_group=p.point_group) for p in phases]
    pipeline(data[:2, :2].copy(), gen.calculate_diffraction2d(phases, rotation=warm, max_excitation_error=a.tolerance,
                                                              reciprocal_radius=a.rmax * a.rpx, with_direct_beam=False))
    t0 = time.perf_counter()
    c0 = time.process_time()
    s = pxm.signals.ElectronDiffraction2D(data)
    s.set_diffraction_calibration(a.rpx)
    s.center_direct_beam(method="blur", sigma=1, half_square_width=10)
    s.calibration.center = None
    t1 = time.perf_counter()
    npt = int(round(a.rmax))
    polar = s.get_azimuthal_integral2d(npt=npt, npt_azim=360, radial_range=(0, npt * a.rpx), mean=True)
    polar = polar ** 0.5
    t2 = time.perf_counter()
    c2 = time.process_time()

    rotations = [get_sample_reduced_fundamental(resolution=a.step, point_group=p.point_group) for p in phases]
    sims = gen.calculate_diffraction2d(phases, rotation=rotations, max_excitation_error=a.tolerance,
                                       reciprocal_radius=a.rmax * a.rpx, with_direct_beam=False)
    t3 = time.perf_counter()
    c3 = time.process_time()
    # n_best = 2: pyxem 0.21's to_phase_index fails for a single best match.
    res = polar.get_orientation(sims, n_best=2)
    rotations_out = res.to_rotation()
    phase_out = res.to_phase_index()
    t4 = time.perf_counter()
    c4 = time.process_time()

    q = np.asarray(rotations_out.data).reshape(ny * nx, 2, 4)[:, 0, :]
    phase = np.asarray(phase_out).reshape(ny * nx, 2)[:, 0]
    np.savez(a.out, quaternion=q, phase=phase)
    print(json.dumps(dict(positions=ny * nx, templates=int(sum(r.size for r in rotations)),
                          centre_s=t1 - t0, polar_s=t2 - t1, library_s=t3 - t2, match_s=t4 - t3,
                          total_s=(t4 - t0) - (t3 - t2),
                          cpu_s=(c4 - c0) - (c3 - c2), library_cpu_s=c3 - c2)))


if __name__ == "__main__":
    main()
