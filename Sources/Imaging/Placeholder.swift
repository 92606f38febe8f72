// Imaging: placeholder until the target lands.
enum ImagingPlaceholder {}
