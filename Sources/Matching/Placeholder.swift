// Matching: placeholder until the target lands.
enum MatchingPlaceholder {}
