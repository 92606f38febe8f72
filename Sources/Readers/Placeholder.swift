// Readers: placeholder until the target lands.
enum ReadersPlaceholder {}
