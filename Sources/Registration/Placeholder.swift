// Registration: placeholder until the target lands.
enum RegistrationPlaceholder {}
