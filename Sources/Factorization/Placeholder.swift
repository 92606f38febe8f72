// Factorization: placeholder until the target lands.
enum FactorizationPlaceholder {}
