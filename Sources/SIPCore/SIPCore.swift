// Placeholder: SIPCore
