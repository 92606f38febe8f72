// MPIShim: the values and macros of OpenMPI and parallel HDF5 that Swift cannot import.
// Each function returns what a C macro or a library-global handle expands to.
#ifndef STEMRUN_MPISHIM_H
#define STEMRUN_MPISHIM_H

#include <mpi.h>
#include <hdf5.h>
#include <stdint.h>

// ---- OpenMPI handles ---------------------------------------------------------------------------------
static inline MPI_Comm shim_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm shim_comm_self(void) { return MPI_COMM_SELF; }
static inline MPI_Comm shim_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Datatype shim_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype shim_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype shim_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype shim_int32(void) { return MPI_INT; }
static inline MPI_Datatype shim_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype shim_uint64(void) { return MPI_UINT64_T; }
static inline MPI_Datatype shim_int8(void) { return MPI_INT8_T; }
static inline MPI_Op shim_op_sum(void) { return MPI_SUM; }
static inline MPI_Op shim_op_max(void) { return MPI_MAX; }
static inline MPI_Op shim_op_min(void) { return MPI_MIN; }
static inline void *shim_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Info shim_info_null(void) { return MPI_INFO_NULL; }
static inline MPI_Status *shim_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline int shim_any_source(void) { return MPI_ANY_SOURCE; }
static inline int shim_proc_null(void) { return MPI_PROC_NULL; }
static inline int shim_undefined(void) { return MPI_UNDEFINED; }
static inline int shim_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline MPI_Errhandler shim_errors_return(void) { return MPI_ERRORS_RETURN; }

// ---- HDF5 identifiers (macros expanding to H5open(), global_g) ----------------------------------------
static inline hid_t shim_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t shim_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t shim_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t shim_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
static inline hid_t shim_H5P_DATASET_XFER(void) { return H5P_DATASET_XFER; }
static inline hid_t shim_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t shim_H5P_DATASET_ACCESS(void) { return H5P_DATASET_ACCESS; }
static inline hid_t shim_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
static inline hid_t shim_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t shim_H5T_NATIVE_UINT16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t shim_H5T_NATIVE_UINT32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t shim_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t shim_H5T_NATIVE_INT8(void) { return H5T_NATIVE_INT8; }
static inline hid_t shim_H5T_NATIVE_INT16(void) { return H5T_NATIVE_INT16; }
static inline hid_t shim_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t shim_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t shim_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t shim_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t shim_H5T_C_S1(void) { return H5T_C_S1; }
static inline unsigned shim_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned shim_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline unsigned shim_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned shim_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }
static inline size_t shim_H5T_VARIABLE(void) { return H5T_VARIABLE; }

/// Silences HDF5's automatic error stack printing; stemrun reports its own errors.
static inline void shim_hdf5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/// Sets the MPI-IO file driver on a file-access property list (collective metadata where available).
int shim_set_fapl_mpio(hid_t fapl, MPI_Comm comm);
/// Sets collective transfer mode on a dataset-transfer property list.
int shim_set_dxpl_collective(hid_t dxpl);

#endif
