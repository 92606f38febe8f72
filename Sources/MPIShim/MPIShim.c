#include "MPIShim.h"

int shim_set_fapl_mpio(hid_t fapl, MPI_Comm comm) {
    if (H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) return -1;
    H5Pset_all_coll_metadata_ops(fapl, 1);
    H5Pset_coll_metadata_write(fapl, 1);
    return 0;
}

int shim_set_dxpl_collective(hid_t dxpl) {
    return H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0 ? -1 : 0;
}
