// Placeholder: Reactor
