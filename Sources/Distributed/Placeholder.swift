// Distributed: placeholder until the target lands.
enum DistributedPlaceholder {}
