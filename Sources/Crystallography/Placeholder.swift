// Crystallography: placeholder until the target lands.
enum CrystallographyPlaceholder {}
