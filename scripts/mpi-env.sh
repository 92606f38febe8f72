# Sourced by the Makefile and the test scripts: lets mpirun run as root, oversubscribe the 2 cores of small
# machines, and keeps one BLAS thread per rank.
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OPENBLAS_NUM_THREADS=1
