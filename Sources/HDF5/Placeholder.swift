// HDF5: placeholder until the target lands.
enum HDF5Placeholder {}
